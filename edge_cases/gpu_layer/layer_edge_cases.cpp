// Edge cases of the layer kernels (kernels/layer.hpp) on the GPU: no rows, one row, widths off
// the tile sizes (tensor_core_linear's too), K = 2, extreme mixture inputs, in-place launches,
// and row counts whose grids exceed 65535 blocks in one dimension. Every launch writes into a
// poisoned, guard-banded GuardedOutput checked after the launch (the launchers of
// tests/support/gpu/ do this). Accuracy uses the tolerance rule with the layer kernels' factors
// (tolerance/constants.hpp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "artabpfn/random_stream.hpp"
#include "kernels/mixed.hpp"
#include "tests/support/gpu/device_calls.hpp"
#include "tests/support/gpu/gelu_harness.hpp"
#include "tests/support/gpu/layer_norm_harness.hpp"
#include "tests/support/gpu/layer_rule.hpp"
#include "tests/support/gpu/linear_harness.hpp"
#include "tests/support/gpu/mixture_harness.hpp"
#include "tests/support/gpu/mixed_harness.hpp"
#include "tests/support/gpu_available.hpp"
#include "tolerance/bitwise.hpp"

namespace {

using namespace artabpfn::gpu_layer_test;
namespace random_stream = artabpfn::random_stream;
namespace reference = artabpfn::reference;
namespace tolerance = artabpfn::tolerance;

using artabpfn::kernels::TensorCoreArithmetic;

void expect_rule(const tolerance::Check& check) { EXPECT_TRUE(check.ok) << check.text; }

void expect_linear_accurate(const LinearCase& c) {
  expect_rule(tolerance::check("linear", flat_double(reference_linear<double>(c)), gpu_linear(c),
                         flat_float(reference_linear<float>(c)), tolerance::kLinearFactor, linear_floor(c)));
}

void expect_layer_norm_accurate(const LayerNormCase& c) {
  expect_rule(check_rule("layer_norm", flat_double(reference_layer_norm<double>(c)), gpu_layer_norm(c),
                         flat_float(reference_layer_norm<float>(c)), tolerance::kLayerNormFactor));
}

LayerNormCase make_layer_norm(Rng& rng, std::int64_t rows, int width, bool with_residual) {
  LayerNormCase c;
  c.rows = rows;
  c.width = width;
  c.x = rng.normals(static_cast<std::size_t>(rows * width), 2.0, 3.0);
  if (with_residual) c.residual = rng.normals(c.x.size(), 0.0, 1.0);
  c.weight = rng.normals(static_cast<std::size_t>(width), 1.0, 0.5);
  c.bias = rng.normals(static_cast<std::size_t>(width), 0.0, 0.5);
  return c;
}

// Mixture params, log density and samples of `c` against the double reference.
void expect_mixture_accurate(const MixtureCase& c, const std::vector<float>& y, std::uint64_t seed) {
  const auto md = reference_mixture<double>(c);
  const auto mf = reference_mixture<float>(c);
  const GpuMixtureParams gpu = gpu_mixture_params(c);
  std::vector<double> ref_mean, ref_std, ref_lw, ref_density, ref_sample;
  std::vector<float> f_mean, f_std, f_lw, f_density, f_sample, g_sample;
  std::vector<std::uint32_t> task(static_cast<std::size_t>(c.rows)), sample(static_cast<std::size_t>(c.rows));
  for (std::size_t i = 0; i < task.size(); ++i) {
    task[i] = static_cast<std::uint32_t>(i % 3);
    sample[i] = static_cast<std::uint32_t>(i);
  }
  const GpuSamples samples = gpu_mixture_sample(c, seed, task, sample, 5);
  std::size_t boundary = 0;
  for (std::size_t i = 0; i < md.size(); ++i) {
    for (int k = 0; k < c.k; ++k) {
      ref_mean.push_back(md[i].mean(k));
      ref_std.push_back(md[i].std(k));
      ref_lw.push_back(md[i].log_weight(k));
      f_mean.push_back(mf[i].mean(k));
      f_std.push_back(mf[i].std(k));
      f_lw.push_back(mf[i].log_weight(k));
    }
    ref_density.push_back(reference::log_density(md[i], static_cast<double>(y[i])));
    f_density.push_back(reference::log_density(mf[i], y[i]));
    const random_stream::Draw draw = random_stream::draw_for(seed, task[i], sample[i], 5);
    const auto kd = reference::pick_component(md[i], draw.component_uniform);
    if (kd != samples.component[i]) {
      ++boundary;  // rare; the sampler property checks these against the boundary tolerance
      continue;
    }
    ref_sample.push_back(reference::sample_mixture(md[i], draw));
    g_sample.push_back(samples.y[i]);
    f_sample.push_back(mf[i].mean(kd) + mf[i].std(kd) * static_cast<float>(draw.normal));
  }
  EXPECT_LE(boundary, md.size() / 100 + 1);
  expect_rule(check_rule("mixture mean", ref_mean, gpu.mean, f_mean, tolerance::kMixtureFactor));
  expect_rule(check_rule("mixture std", ref_std, gpu.std_dev, f_std, tolerance::kMixtureFactor));
  expect_rule(check_rule("mixture log_weight", ref_lw, gpu.log_weight, f_lw, tolerance::kMixtureFactor));
  const std::vector<float> density = gpu_mixture_log_density(c, y);
  for (std::size_t i = 0; i < density.size(); ++i)
    if (std::isfinite(ref_density[i])) {
      EXPECT_TRUE(std::isfinite(density[i])) << "row " << i;
    }
  expect_rule(check_rule("mixture log density", ref_density, density, f_density, tolerance::kDensityFactor));
  expect_rule(check_rule("mixture sample", ref_sample, g_sample, f_sample, tolerance::kSampleFactor));
}

// ---- no rows, one row ---------------------------------------------------------------------------

TEST(LayerEdgeCases, ZeroRowsWriteNothing) {
  ARTABPFN_REQUIRE_GPU();
  Rng rng(1);
  // Each launcher checks that its (empty) payload's guard bands are untouched.
  EXPECT_TRUE(gpu_linear(random_linear(rng, 0, 17, 9, true, true, Epilogue::kGelu)).empty());
  EXPECT_TRUE(gpu_layer_norm(make_layer_norm(rng, 0, 33, true)).empty());
  EXPECT_TRUE(gpu_gelu({}).empty());
  const MixtureCase mix = random_mixture(rng, 0, 4, 2.0);
  EXPECT_TRUE(gpu_mixture_params(mix).mean.empty());
  EXPECT_TRUE(gpu_mixture_log_density(mix, {}).empty());
  EXPECT_TRUE(gpu_mixture_sample(mix, 9, {}, {}, 0).y.empty());
  for (const auto io : {MixedIo::kDoubleToDouble, MixedIo::kDoubleToFloat, MixedIo::kFloatToDouble})
    EXPECT_TRUE(gpu_mixed_linear(random_linear(rng, 0, 17, 9, true, true, Epilogue::kGelu), io).empty());
  EXPECT_TRUE(gpu_mixed_layer_norm(make_layer_norm(rng, 0, 33, true), false).empty());
}

// The mixed-precision path's kernels refuse bad sizes with a message, and launch nothing.
TEST(LayerEdgeCases, MixedKernelsRefuseBadArguments) {
  ARTABPFN_REQUIRE_GPU();
  namespace mixed = artabpfn::kernels::mixed;
  using artabpfn::kernels::BufferKV;
  using artabpfn::kernels::BufferMask;
  using artabpfn::kernels::QueryBlock;
  const auto negative_rows = [] {
    mixed::linear<double, double>(nullptr, nullptr, nullptr, nullptr, nullptr, -1, 4, 4, Epilogue::kNone, nullptr);
  };
  EXPECT_THROW(negative_rows(), std::invalid_argument);
  EXPECT_THROW(mixed::layer_norm(nullptr, nullptr, nullptr, nullptr, nullptr, 4, 0, nullptr), std::invalid_argument);
  const QueryBlock q{nullptr, 1, 1, 3, 8};  // teacher forcing needs Lq = 2 x buffer length
  const BufferKV buffer{nullptr, nullptr, 2, 2, BufferMask::kTeacherForcing};
  EXPECT_THROW(mixed::attention(q, {}, buffer, {nullptr, nullptr}, nullptr), std::invalid_argument);
  const QueryBlock wide_head{nullptr, 1, 1, 1, 257};
  EXPECT_THROW(mixed::attention(wide_head, {}, {}, {nullptr, nullptr}, nullptr), std::invalid_argument);
}

TEST(LayerEdgeCases, OneRow) {
  ARTABPFN_REQUIRE_GPU();
  Rng rng(2);
  expect_linear_accurate(random_linear(rng, 1, 128, 256, true, false, Epilogue::kGelu));
  expect_linear_accurate(random_linear(rng, 1, 256, 128, true, true, Epilogue::kNone));
  expect_layer_norm_accurate(make_layer_norm(rng, 1, 128, true));
  const std::vector<float> x{-0.75f};
  EXPECT_NEAR(gpu_gelu(x)[0], reference::gelu(-0.75), 1e-7);
  const MixtureCase mix = random_mixture(rng, 1, 20, 8.0);
  expect_mixture_accurate(mix, {0.25f}, 11);
}

// ---- widths off the tiles ----------------------------------------------------------------------

TEST(LayerEdgeCases, LinearShapesOffTheTiles) {
  ARTABPFN_REQUIRE_GPU();
  Rng rng(3);
  // k % 4 == 0 (32, 128) takes the whole-k kernel, whose tiles are 8, 16 and 64 rows for up to 64,
  // up to 2048 and more rows (2049); the other k the k-tiled kernel.
  for (const int in : {1, 2, 31, 32, 33, 63, 65, 127, 128, 129})
    for (const int out : {1, 3, 63, 64, 65, 130})
      for (const std::int64_t rows : {1, 63, 64, 65, 129, 2049}) {
        SCOPED_TRACE("rows " + std::to_string(rows) + " in " + std::to_string(in) + " out " + std::to_string(out));
        expect_linear_accurate(random_linear(rng, rows, in, out, (in + out) % 2 == 0, rows % 2 == 1,
                                             out % 2 == 1 ? Epilogue::kGelu : Epilogue::kNone));
      }
}

// tensor_core_linear tiles 64 rows x 32 outputs, stages k 32 at a time and steps it by 8: every
// split of those, k below one step, one row and no rows. tf32x3 is held to linear's float32 rule
// over tf32x3_baseline, tf32 to the same rule over the plain TF32 product (docs/precisions.md).
void expect_tensor_core_linear_accurate(const LinearCase& c) {
  expect_rule(tolerance::check("tensor_core_linear tf32x3", flat_double(reference_linear<double>(c)),
                               gpu_tensor_core_linear(c, TensorCoreArithmetic::kTf32x3), tf32x3_baseline(c),
                               tolerance::kLinearFactor, linear_floor(c)));
  expect_rule(tolerance::check("tensor_core_linear tf32", flat_double(reference_linear<double>(c)),
                               gpu_tensor_core_linear(c, TensorCoreArithmetic::kTf32),
                               flat_float(reference_linear_tf32(c)), tolerance::kLinearFactor, linear_floor(c)));
}

TEST(LayerEdgeCases, TensorCoreLinearShapesOffTheTiles) {
  ARTABPFN_REQUIRE_GPU();
  Rng rng(9);
  for (const TensorCoreArithmetic arithmetic : {TensorCoreArithmetic::kTf32, TensorCoreArithmetic::kTf32x3})
    EXPECT_TRUE(gpu_tensor_core_linear(random_linear(rng, 0, 17, 9, true, true, Epilogue::kGelu), arithmetic).empty());
  // in 4, 8, 36, 40 and 128 take the whole-k staging (4 and 36 end inside a k-step), the others
  // the blocked one.
  for (const int in : {1, 4, 7, 8, 9, 33, 36, 40, 65, 128})
    for (const int out : {1, 8, 31, 32, 33, 65})
      for (const std::int64_t rows : {1, 15, 17, 64, 65, 129}) {
        SCOPED_TRACE("rows " + std::to_string(rows) + " in " + std::to_string(in) + " out " + std::to_string(out));
        expect_tensor_core_linear_accurate(random_linear(rng, rows, in, out, (in + out) % 2 == 0, rows % 2 == 1,
                                                         out % 2 == 1 ? Epilogue::kGelu : Epilogue::kNone));
      }
}

// The two stagings (whole k with cp.async where x and W are 16-byte aligned and in_features % 4 ==
// 0, else 32 k at a time) feed the same MMAs the same values: x one float off its alignment takes
// the blocked staging and gives bitwise the same output.
TEST(LayerEdgeCases, TensorCoreLinearStagingsGiveTheSameBits) {
  ARTABPFN_REQUIRE_GPU();
  Rng rng(11);
  for (const int in : {4, 36, 128, 256})
    for (const TensorCoreArithmetic arithmetic : {TensorCoreArithmetic::kTf32, TensorCoreArithmetic::kTf32x3}) {
      SCOPED_TRACE("in " + std::to_string(in));
      const LinearCase c = random_linear(rng, 100, in, 72, true, true, Epilogue::kGelu);
      std::vector<float> shifted_x(c.x.size() + 1, 0.0f);
      std::copy(c.x.begin(), c.x.end(), shifted_x.begin() + 1);
      DeviceBuffer<float> x(shifted_x), w(c.weight), b(c.bias), r(c.residual);
      GuardedOutput y(static_cast<std::size_t>(c.rows * c.out));
      artabpfn::kernels::tensor_core_linear(x.data() + 1, w.data(), b.data(), r.data(), y.data(), c.rows, c.in, c.out,
                                            c.act, arithmetic, nullptr);
      device_sync();
      EXPECT_TRUE(tolerance::bitwise_equal(y.checked_download("tensor_core_linear, blocked staging"),
                                           gpu_tensor_core_linear(c, arithmetic)));
    }
}

// No k at all: every output is the epilogue of the bias and residual, in both arithmetics.
TEST(LayerEdgeCases, TensorCoreLinearWithoutInputsGivesTheEpilogue) {
  ARTABPFN_REQUIRE_GPU();
  Rng rng(10);
  expect_tensor_core_linear_accurate(random_linear(rng, 70, 0, 33, true, true, Epilogue::kGelu));
}

TEST(LayerEdgeCases, LayerNormWidthsOffTheWarp) {
  ARTABPFN_REQUIRE_GPU();
  Rng rng(4);
  for (const int width : {1, 2, 3, 31, 32, 33, 63, 65, 127, 128, 129, 255, 256, 257, 300, 513})
    for (const std::int64_t rows : {1, 7, 8, 9}) {
      SCOPED_TRACE("rows " + std::to_string(rows) + " width " + std::to_string(width));
      expect_layer_norm_accurate(make_layer_norm(rng, rows, width, width % 2 == 0));
    }
}

// Width 1: the centred value is 0, so every output is the bias (the reference gives the same).
TEST(LayerEdgeCases, LayerNormWidthOneGivesTheBias) {
  ARTABPFN_REQUIRE_GPU();
  Rng rng(5);
  const LayerNormCase c = make_layer_norm(rng, 50, 1, true);
  const std::vector<float> y = gpu_layer_norm(c);
  for (float v : y) EXPECT_EQ(v, c.bias[0]);
}

// ---- mixture: K = 2 and extreme inputs ----------------------------------------------------------

TEST(LayerEdgeCases, MixtureWithTwoComponents) {
  ARTABPFN_REQUIRE_GPU();
  Rng rng(6);
  const MixtureCase mix = random_mixture(rng, 1000, 2, 8.0);
  expect_mixture_accurate(mix, rng.normals(1000, 0.0, 4.0), 12);
}

TEST(LayerEdgeCases, MixtureExtremeInputsStayFinite) {
  ARTABPFN_REQUIRE_GPU();
  Rng rng(7);
  MixtureCase mix = random_mixture(rng, 200, 5, 50.0);
  // Weight logits at exactly +-50, std logits far below and above the softplus/clamp regions.
  for (std::int64_t i = 0; i < mix.rows; ++i)
    for (int k = 0; k < mix.k; ++k) {
      float* r = mix.r.data() + i * 3 * mix.k + 3 * k;
      r[2] = (i + k) % 2 == 0 ? 50.0f : -50.0f;
      r[1] = i % 3 == 0 ? -200.0f : (i % 3 == 1 ? 200.0f : 20.0f);
    }
  std::vector<float> y(200);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = (i % 2 == 0 ? 1.0f : -1.0f) * (i % 4 < 2 ? 1e6f : 30.0f);
  expect_mixture_accurate(mix, y, 13);
}

// ---- in place ----------------------------------------------------------------------------------

// A GuardedOutput whose payload holds `values` (the in-place launch's input); guards still checked.
GuardedOutput holding(const std::vector<float>& values) {
  GuardedOutput out(values.size());
  if (!values.empty())
    ARTABPFN_CUDA_CHECK(cudaMemcpy(out.data(), values.data(), values.size() * sizeof(float), cudaMemcpyHostToDevice));
  return out;
}

TEST(LayerEdgeCases, InPlaceLaunchesEqualOutOfPlace) {
  ARTABPFN_REQUIRE_GPU();
  Rng rng(8);
  const LayerNormCase ln = make_layer_norm(rng, 37, 300, true);
  {
    DeviceBuffer<float> r(ln.residual), w(ln.weight), b(ln.bias);
    GuardedOutput xy = holding(ln.x);
    artabpfn::kernels::layer_norm(xy.data(), r.data(), w.data(), b.data(), xy.data(), ln.rows, ln.width, nullptr);
    device_sync();
    EXPECT_TRUE(tolerance::bitwise_equal(xy.checked_download("layer_norm in place"), gpu_layer_norm(ln)));
  }
  {
    const std::vector<float> x = rng.normals(1000, 0.0, 3.0);
    GuardedOutput xy = holding(x);
    artabpfn::kernels::gelu(xy.data(), xy.data(), 1000, nullptr);
    device_sync();
    EXPECT_TRUE(tolerance::bitwise_equal(xy.checked_download("gelu in place"), gpu_gelu(x)));
  }
  {
    const LinearCase lin = random_linear(rng, 70, 40, 90, true, true, Epilogue::kGelu);
    DeviceBuffer<float> x(lin.x), w(lin.weight), b(lin.bias);
    GuardedOutput ry = holding(lin.residual);
    artabpfn::kernels::linear(x.data(), w.data(), b.data(), ry.data(), ry.data(), lin.rows, lin.in, lin.out, lin.act,
                              nullptr);
    device_sync();
    EXPECT_TRUE(tolerance::bitwise_equal(ry.checked_download("linear residual in place"), gpu_linear(lin)));
    for (const TensorCoreArithmetic arithmetic : {TensorCoreArithmetic::kTf32, TensorCoreArithmetic::kTf32x3}) {
      GuardedOutput tc = holding(lin.residual);
      artabpfn::kernels::tensor_core_linear(x.data(), w.data(), b.data(), tc.data(), tc.data(), lin.rows, lin.in,
                                            lin.out, lin.act, arithmetic, nullptr);
      device_sync();
      EXPECT_TRUE(tolerance::bitwise_equal(tc.checked_download("tensor_core_linear residual in place"),
                                           gpu_tensor_core_linear(lin, arithmetic)));
    }
  }
}

// ---- grids of more than 65535 blocks in one dimension --------------------------------------------

// Rows to re-launch alone: the first, the last, and ~1000 spread over the launch.
std::vector<std::int64_t> sampled_rows(std::int64_t rows) {
  std::vector<std::int64_t> out{0, 1, 2};
  for (std::int64_t i = 3; i < rows - 3; i += rows / 997) out.push_back(i);
  for (std::int64_t i = rows - 3; i < rows; ++i) out.push_back(i);
  return out;
}

// A fast deterministic filler for the huge inputs (the normal generator would dominate the run).
std::vector<float> cheap_values(std::size_t n, std::uint64_t state, float lo, float hi) {
  std::vector<float> v(n);
  for (float& x : v) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    x = lo + (hi - lo) * static_cast<float>(state >> 40) * 0x1p-24f;
  }
  return v;
}

template <class T>
std::vector<T> gather_rows(const std::vector<T>& all, const std::vector<std::int64_t>& rows, std::int64_t width) {
  std::vector<T> out;
  out.reserve(rows.size() * static_cast<std::size_t>(width));
  for (std::int64_t r : rows) out.insert(out.end(), all.begin() + r * width, all.begin() + (r + 1) * width);
  return out;
}

TEST(LayerEdgeCases, LinearWithMoreThan65535RowBlocks) {
  ARTABPFN_REQUIRE_GPU();
  // in 3: the k-tiled kernel (65537 row tiles of 64); in 4: the whole-k kernel (the same); both
  // through tensor_core_linear too (64-row tiles).
  for (const int in : {3, 4}) {
    SCOPED_TRACE("in " + std::to_string(in));
    LinearCase c;
    c.rows = 64LL * 65536 + 3;
    c.in = in;
    c.out = 2;
    c.x = cheap_values(static_cast<std::size_t>(c.rows * c.in), 21, -2.0f, 2.0f);
    c.weight = {0.5f, -1.25f, 2.0f, 0.75f, 0.125f, -3.0f, 1.5f, -0.5f};
    c.weight.resize(static_cast<std::size_t>(c.out * c.in));
    c.bias = {0.1f, -0.2f};
    c.residual = cheap_values(static_cast<std::size_t>(c.rows * c.out), 22, -1.0f, 1.0f);
    c.act = Epilogue::kGelu;
    const std::vector<float> y = gpu_linear(c);
    const std::vector<std::int64_t> rows = sampled_rows(c.rows);
    LinearCase small = c;
    small.rows = static_cast<std::int64_t>(rows.size());
    small.x = gather_rows(c.x, rows, c.in);
    small.residual = gather_rows(c.residual, rows, c.out);
    EXPECT_TRUE(tolerance::bitwise_equal(gpu_linear(small), gather_rows(y, rows, c.out)));
    expect_linear_accurate(small);
    for (const TensorCoreArithmetic arithmetic : {TensorCoreArithmetic::kTf32, TensorCoreArithmetic::kTf32x3})
      EXPECT_TRUE(tolerance::bitwise_equal(gpu_tensor_core_linear(small, arithmetic),
                                           gather_rows(gpu_tensor_core_linear(c, arithmetic), rows, c.out)));
    expect_tensor_core_linear_accurate(small);
  }
}

TEST(LayerEdgeCases, LayerNormWithMoreThan65535Blocks) {
  ARTABPFN_REQUIRE_GPU();
  LayerNormCase c;
  c.rows = 8LL * 65536 + 5;  // 65537 blocks of 8 rows
  c.width = 5;
  c.x = cheap_values(static_cast<std::size_t>(c.rows * c.width), 31, -3.0f, 5.0f);
  c.weight = {1.0f, 0.5f, -2.0f, 1.5f, 0.25f};
  c.bias = {0.0f, 0.1f, -0.1f, 0.2f, 1.0f};
  const std::vector<float> y = gpu_layer_norm(c);
  const std::vector<std::int64_t> rows = sampled_rows(c.rows);
  LayerNormCase small = c;
  small.rows = static_cast<std::int64_t>(rows.size());
  small.x = gather_rows(c.x, rows, c.width);
  EXPECT_TRUE(tolerance::bitwise_equal(gpu_layer_norm(small), gather_rows(y, rows, c.width)));
  expect_layer_norm_accurate(small);
}

TEST(LayerEdgeCases, GeluWithMoreThan65535Blocks) {
  ARTABPFN_REQUIRE_GPU();
  const std::int64_t count = 256LL * 65536 + 7;  // 65537 blocks of 256
  const std::vector<float> x = cheap_values(static_cast<std::size_t>(count), 41, -8.0f, 8.0f);
  const std::vector<float> y = gpu_gelu(x);
  const std::vector<std::int64_t> picks = sampled_rows(count);
  const std::vector<float> small_x = gather_rows(x, picks, 1);
  EXPECT_TRUE(tolerance::bitwise_equal(gpu_gelu(small_x), gather_rows(y, picks, 1)));
  const auto n = static_cast<std::int64_t>(small_x.size());
  const std::vector<double> ref = flat_double(Matrix<double>(reference::gelu(to_matrix<double>(small_x, 1, n))));
  expect_rule(tolerance::check("gelu", ref, gpu_gelu(small_x), flat_float(Matrix<float>(reference::gelu(to_matrix<float>(small_x, 1, n)))),
                         tolerance::kGeluFactor, gelu_floor(small_x, ref)));
}

TEST(LayerEdgeCases, MixtureWithMoreThan65535Blocks) {
  ARTABPFN_REQUIRE_GPU();
  MixtureCase c;
  c.rows = 128LL * 65536 + 1;  // 65537 blocks of 128 rows
  c.k = 2;
  c.r = cheap_values(static_cast<std::size_t>(c.rows * 3 * c.k), 51, -4.0f, 4.0f);
  c.mean_bias = {0.5f, -0.5f};
  c.std_bias = {0.0f, 1.0f};
  c.weight_bias = {0.25f, -0.25f};
  const std::vector<float> y = cheap_values(static_cast<std::size_t>(c.rows), 52, -6.0f, 6.0f);
  std::vector<std::uint32_t> task(static_cast<std::size_t>(c.rows)), sample(static_cast<std::size_t>(c.rows));
  for (std::size_t i = 0; i < task.size(); ++i) {
    task[i] = static_cast<std::uint32_t>(i % 5);
    sample[i] = static_cast<std::uint32_t>(i);
  }
  const GpuMixtureParams params = gpu_mixture_params(c);
  const std::vector<float> density = gpu_mixture_log_density(c, y);
  const GpuSamples samples = gpu_mixture_sample(c, 77, task, sample, 3);

  const std::vector<std::int64_t> rows = sampled_rows(c.rows);
  MixtureCase small = c;
  small.rows = static_cast<std::int64_t>(rows.size());
  small.r = gather_rows(c.r, rows, 3 * c.k);
  const GpuMixtureParams small_params = gpu_mixture_params(small);
  EXPECT_TRUE(tolerance::bitwise_equal(small_params.mean, gather_rows(params.mean, rows, c.k)));
  EXPECT_TRUE(tolerance::bitwise_equal(small_params.std_dev, gather_rows(params.std_dev, rows, c.k)));
  EXPECT_TRUE(tolerance::bitwise_equal(small_params.log_weight, gather_rows(params.log_weight, rows, c.k)));
  const std::vector<float> small_y = gather_rows(y, rows, 1);
  EXPECT_TRUE(tolerance::bitwise_equal(gpu_mixture_log_density(small, small_y), gather_rows(density, rows, 1)));
  const GpuSamples small_samples =
      gpu_mixture_sample(small, 77, gather_rows(task, rows, 1), gather_rows(sample, rows, 1), 3);
  EXPECT_TRUE(tolerance::bitwise_equal(small_samples.y, gather_rows(samples.y, rows, 1)));
  EXPECT_EQ(small_samples.component, gather_rows(samples.component, rows, 1));
  EXPECT_TRUE(tolerance::bitwise_equal(gpu_mixture_sample(c, 77, task, sample, 3, false).y, samples.y))
      << "the component output changes the samples";
}

// linear_layer_norm reads the residual and x rows of a tile in every block of its cluster before
// any block writes y, but its two-launch fallback does not: aliasing is refused with a message.
TEST(LayerEdgeCases, LinearLayerNormRefusesAnAliasedOutput) {
  ARTABPFN_REQUIRE_GPU();
  DeviceBuffer<float> x(std::vector<float>(64, 1.0f)), w(std::vector<float>(64, 0.5f)),
      ln(std::vector<float>(8, 1.0f));
  const auto call = [&](const float* in, const float* residual, float* y) {
    artabpfn::kernels::linear_layer_norm(in, w.data(), nullptr, residual, ln.data(), ln.data(), y, 8, 8, 8, nullptr);
  };
  DeviceBuffer<float> r(std::vector<float>(64, 2.0f));
  EXPECT_THROW(call(x.data(), r.data(), r.data()), std::invalid_argument);
  EXPECT_THROW(call(x.data(), r.data(), x.data()), std::invalid_argument);
  EXPECT_THROW(call(x.data(), nullptr, r.data()), std::invalid_argument);
}

// linear_append_kv refuses an odd row count (rows come 2 a sample), a null step or buffer and
// sizes below 1, with a message, before launching anything.
TEST(LayerEdgeCases, LinearAppendKvRefusesBadArguments) {
  ARTABPFN_REQUIRE_GPU();
  DeviceBuffer<float> x(std::vector<float>(16, 1.0f)), w(std::vector<float>(96, 0.5f)), y(std::vector<float>(24, 0.0f)),
      kb(std::vector<float>(16, 0.0f)), vb(std::vector<float>(16, 0.0f));
  DeviceBuffer<int> step(std::vector<int>{1});
  const artabpfn::kernels::KVAppend good{kb.data(), vb.data(), 2, step.data(), 2, 2};
  const auto call = [&](std::int64_t rows, artabpfn::kernels::KVAppend a) {
    artabpfn::kernels::linear_append_kv(x.data(), w.data(), y.data(), rows, 4, a, nullptr);
  };
  EXPECT_NO_THROW(call(2, good));
  EXPECT_THROW(call(3, good), std::invalid_argument);
  auto bad = good;
  bad.step = nullptr;
  EXPECT_THROW(call(2, bad), std::invalid_argument);
  bad = good;
  bad.v_buffer = nullptr;
  EXPECT_THROW(call(2, bad), std::invalid_argument);
  bad = good;
  bad.capacity = 0;
  EXPECT_THROW(call(2, bad), std::invalid_argument);
  device_sync();
}

}  // namespace
