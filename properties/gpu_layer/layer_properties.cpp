// Properties of the layer kernels (kernels/layer.hpp) on the GPU, against the double reference
// (reference/layer_ops.hpp, reference/mixture_head.hpp) with the tolerance rule
// (tolerance/rule.hpp): the GPU's max error must be <= factor x the max error of the plain float32
// reference (the same functions instantiated with float) + a small floor (tolerance::kLayerFloor:
// two float32 ulps of the largest reference value; for linear, one ulp of the largest sum of term
// magnitudes). Each property prints its measured error / plain error ratios ("[ratio]"); the
// factors and the numbers behind them are in tolerance/constants.hpp.
// Every launch writes into a poisoned, guard-banded GuardedOutput checked after the launch
// (the launchers of tests/support/gpu/).
// RapidCheck runs 100 cases per property (its default; RC_PARAMS="max_success=..." for more), with
// shapes growing from small to large.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "artabpfn/random_stream.hpp"
#include "kernels/rows.hpp"
#include "properties/gpu_layer/generators.hpp"
#include "properties/gpu_layer/linear_batch_invariance.hpp"
#include "tests/support/gpu/device_calls.hpp"
#include "tests/support/gpu/gelu_harness.hpp"
#include "tests/support/gpu/layer_norm_harness.hpp"
#include "tests/support/gpu/layer_rule.hpp"
#include "tests/support/gpu/linear_harness.hpp"
#include "tests/support/gpu/mixture_harness.hpp"
#include "tests/support/gpu/mixed_harness.hpp"
#include "tests/support/gpu_available.hpp"
#include "tolerance/bitwise.hpp"
#include "tolerance/double_rounding.hpp"
#include "tolerance/ratio_log.hpp"

namespace {

using namespace artabpfn::gpu_layer_test;
namespace random_stream = artabpfn::random_stream;
namespace reference = artabpfn::reference;
namespace tolerance = artabpfn::tolerance;

// ---- linear ---------------------------------------------------------------------------------------

TEST(LayerProperties, LinearMatchesDoubleReference) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("linear vs double reference, factor rule", [] {
    const auto rows = *rc::gen::inRange<std::int64_t>(0, 160);
    const int in = *rc::gen::inRange(1, 300);
    const int out = *rc::gen::inRange(1, 200);
    const bool with_bias = *rc::gen::arbitrary<bool>();
    const bool with_residual = *rc::gen::arbitrary<bool>();
    const Epilogue act = any_epilogue();
    Rng rng(any_seed());
    const LinearCase c = random_linear(rng, rows, in, out, with_bias, with_residual, act);
    const tolerance::Check check = tolerance::check("linear", flat_double(reference_linear<double>(c)), gpu_linear(c),
                                       flat_float(reference_linear<float>(c)), tolerance::kLinearFactor, linear_floor(c));
    tolerance::RatioLog::global().add("linear", check);
    RC_LOG() << check.text << "\n";
    RC_ASSERT(check.ok);
  }));
  tolerance::RatioLog::global().print("linear");
}

// kernels::mixed::linear (the mixed-precision path) in each of its input/output types: the double
// reference to double rounding (mixed_linear_floor), plus the rounding to float32 of a float output.
TEST(LayerProperties, MixedLinearIsDoubleArithmetic) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("mixed::linear vs double reference", [] {
    const auto rows = *rc::gen::inRange<std::int64_t>(0, 160);
    const int in = *rc::gen::inRange(1, 300);
    const int out = *rc::gen::inRange(1, 200);
    const Epilogue act = any_epilogue();
    const auto io = *rc::gen::element(MixedIo::kDoubleToDouble, MixedIo::kDoubleToFloat, MixedIo::kFloatToDouble);
    Rng rng(any_seed());
    const LinearCase c = random_linear(rng, rows, in, out, *rc::gen::arbitrary<bool>(), *rc::gen::arbitrary<bool>(), act);
    std::string where;
    const bool ok = tolerance::within_double_rounding(
        flat_double(reference_linear<double>(c)), gpu_mixed_linear(c, io), mixed_linear_floor(c), io == MixedIo::kDoubleToFloat,
        where);
    RC_LOG() << where << "\n";
    RC_ASSERT(ok);
  }));
}

// Row r's output is bitwise the same whatever the number of rows and whatever the other rows are.
TEST(LayerProperties, LinearIsBitwiseBatchInvariant) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("linear batch invariance", [] { assert_linear_batch_invariant(gpu_linear); }));
}

// The fused GELU epilogue equals the linear map followed by the gelu kernel, bit for bit.
TEST(LayerProperties, LinearGeluEpilogueEqualsGeluKernel) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("linear(kGelu) == gelu(linear(kNone))", [] {
    const auto rows = *rc::gen::inRange<std::int64_t>(1, 100);
    const int in = *rc::gen::inRange(1, 200);
    const int out = *rc::gen::inRange(1, 200);
    Rng rng(any_seed());
    LinearCase fused = random_linear(rng, rows, in, out, *rc::gen::arbitrary<bool>(), false, Epilogue::kGelu);
    LinearCase plain = fused;
    plain.act = Epilogue::kNone;
    RC_ASSERT(tolerance::bitwise_equal(gpu_linear(fused), gpu_gelu(gpu_linear(plain))));
  }));
}

// ---- q|k|v with the decode step's K/V append ----------------------------------------------------

// y and both buffers after linear_append_kv, or after linear then append_buffer_kv_step.
struct AppendResult {
  std::vector<float> y, k_buffer, v_buffer;
};

AppendResult gpu_linear_append(const LinearCase& c, int heads, int head_dim, int capacity, int step,
                               const std::vector<float>& k_initial, const std::vector<float>& v_initial, bool fused) {
  DeviceBuffer<float> x(c.x), w(c.weight), kb(k_initial), vb(v_initial);
  DeviceBuffer<int> t(std::vector<int>{step});
  GuardedOutput y(static_cast<std::size_t>(c.rows * c.out));
  const int d = heads * head_dim;
  if (fused) {
    artabpfn::kernels::linear_append_kv(x.data(), w.data(), y.data(), c.rows, c.in,
                                        {kb.data(), vb.data(), capacity, t.data(), heads, head_dim}, nullptr);
  } else {
    artabpfn::kernels::linear(x.data(), w.data(), nullptr, nullptr, y.data(), c.rows, c.in, c.out, Epilogue::kNone,
                              nullptr);
    artabpfn::kernels::append_buffer_kv_step(y.data() + d, y.data() + 2 * d, 6 * std::int64_t(d), kb.data(), vb.data(),
                                             c.rows / 2, capacity, t.data(), heads, head_dim, nullptr);
  }
  device_sync();
  return {y.checked_download("linear_append_kv"), kb.download(), vb.download()};
}

// linear_append_kv is linear then append_buffer_kv_step, bitwise, for the product and for every
// buffer element (the ones it must not touch keep their random values): 0 to 1200 samples (tiles
// of 8, 16 and 64 rows), steps 0 (no append) to capacity, head dims that are not multiples of 4,
// and k that is not (the fallback: the two launches).
TEST(LayerProperties, LinearAppendKvEqualsLinearThenAppend) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("linear_append_kv == linear + append_buffer_kv_step, bitwise", [] {
    const int heads = *rc::gen::inRange(1, 5), head_dim = *rc::gen::inRange(1, 41);
    const int in = *rc::gen::oneOf(rc::gen::map(rc::gen::inRange(1, 65), [](int k) { return 4 * k; }),
                                   rc::gen::inRange(1, 300));
    const auto batch = *rc::gen::oneOf(rc::gen::inRange<std::int64_t>(0, 40), rc::gen::inRange<std::int64_t>(1000, 1200));
    const int capacity = *rc::gen::inRange(1, 9), step = *rc::gen::inRange(0, capacity + 1);
    Rng rng(any_seed());
    const LinearCase c = random_linear(rng, 2 * batch, in, 3 * heads * head_dim, false, false, Epilogue::kNone);
    const std::size_t buffer = static_cast<std::size_t>(batch * heads * capacity * head_dim);
    const std::vector<float> k0 = rng.normals(buffer, 0.0, 1.0), v0 = rng.normals(buffer, 0.0, 1.0);
    const AppendResult fused = gpu_linear_append(c, heads, head_dim, capacity, step, k0, v0, true);
    const AppendResult separate = gpu_linear_append(c, heads, head_dim, capacity, step, k0, v0, false);
    RC_ASSERT(tolerance::bitwise_equal(fused.y, separate.y));
    RC_ASSERT(tolerance::bitwise_equal(fused.k_buffer, separate.k_buffer));
    RC_ASSERT(tolerance::bitwise_equal(fused.v_buffer, separate.v_buffer));
    if (step == 0) RC_ASSERT(tolerance::bitwise_equal(fused.k_buffer, k0));  // nothing appended at t = 0
  }));
}

// ---- linear + layer norm ----------------------------------------------------------------------------

// x, W, bias of a linear map (LinearCase, without residual or GELU), then the LayerNorm's residual
// rows and parameters.
struct LinearLayerNormCase {
  LinearCase product;
  std::vector<float> residual, ln_weight, ln_bias;
};

LinearLayerNormCase random_linear_layer_norm(Rng& rng, std::int64_t rows, int in, int width) {
  LinearLayerNormCase c{random_linear(rng, rows, in, width, *rc::gen::arbitrary<bool>(), false, Epilogue::kNone),
                        {}, {}, {}};
  c.residual = rng.normals(static_cast<std::size_t>(rows * width), rng.normal(0.0, 2.0), 1.0);
  c.ln_weight = rng.normals(static_cast<std::size_t>(width), 1.0, 0.5);
  c.ln_bias = rng.normals(static_cast<std::size_t>(width), 0.0, 0.5);
  return c;
}

std::vector<float> gpu_linear_layer_norm(const LinearLayerNormCase& c) {
  const LinearCase& p = c.product;
  DeviceBuffer<float> x(p.x), w(p.weight), b(p.bias), r(c.residual), lw(c.ln_weight), lb(c.ln_bias);
  GuardedOutput y(static_cast<std::size_t>(p.rows * p.out));
  artabpfn::kernels::linear_layer_norm(x.data(), w.data(), or_null(b), r.data(), lw.data(), lb.data(), y.data(), p.rows, p.in,
                             p.out, nullptr);
  device_sync();
  return y.checked_download("linear_layer_norm");
}

// The separate launches it stands for: linear, then layer_norm(residual + product).
std::vector<float> gpu_linear_then_layer_norm(const LinearLayerNormCase& c) {
  LayerNormCase ln;
  ln.rows = c.product.rows;
  ln.width = c.product.out;
  ln.x = c.residual;
  ln.residual = gpu_linear(c.product);
  ln.weight = c.ln_weight;
  ln.bias = c.ln_bias;
  return gpu_layer_norm(ln);
}

// Bitwise the composition of two kernels that are each held to the double reference above and
// below. Widths up to 300 and k up to 300 reach the one-launch kernel (width <= 256, k % 4 == 0,
// k <= 256) and its fallback; 1 to 300 rows include partial row tiles and, with partial output
// tiles (width % 32 != 0), clusters of 1 to 8 blocks.
TEST(LayerProperties, LinearLayerNormEqualsLinearThenLayerNorm) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("linear_layer_norm == layer_norm(residual + linear), bitwise", [] {
    const auto rows = *rc::gen::inRange<std::int64_t>(0, 300);
    const int in = *rc::gen::oneOf(rc::gen::map(rc::gen::inRange(1, 65), [](int k) { return 4 * k; }),
                                   rc::gen::inRange(1, 300));
    const int width = *rc::gen::oneOf(rc::gen::inRange(1, 257), rc::gen::inRange(1, 300));
    Rng rng(any_seed());
    const LinearLayerNormCase c = random_linear_layer_norm(rng, rows, in, width);
    RC_ASSERT(tolerance::bitwise_equal(gpu_linear_layer_norm(c), gpu_linear_then_layer_norm(c)));
  }));
}

// A row gets the same bits from launches of 1-40 rows (one launch, tiles of 8 rows, chains split
// over 4 threads), 65-256 (tiles of 16, split), 257-2048 (16, not split) and 2049-4000 and 20000
// (two launches: the whole-k product with 64-row tiles, then layer_norm).
TEST(LayerProperties, LinearLayerNormIsBitwiseBatchInvariant) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("linear_layer_norm batch invariance", [] {
    const int in = 4 * *rc::gen::inRange(1, 65);
    const int width = *rc::gen::inRange(1, 257);
    const auto rows = *rc::gen::inRange<std::int64_t>(1, 40);
    const auto at = *rc::gen::inRange<std::int64_t>(0, rows);
    Rng rng(any_seed());
    const LinearLayerNormCase few = random_linear_layer_norm(rng, rows, in, width);
    const std::vector<float> expected = gpu_linear_layer_norm(few);
    for (const std::int64_t n : {*rc::gen::inRange<std::int64_t>(65, 257), *rc::gen::inRange<std::int64_t>(257, 2049),
                                 *rc::gen::inRange<std::int64_t>(2049, 4001), std::int64_t{20000}}) {
      LinearLayerNormCase other = random_linear_layer_norm(rng, n, in, width);
      other.product.weight = few.product.weight;
      other.product.bias = few.product.bias;
      other.ln_weight = few.ln_weight;
      other.ln_bias = few.ln_bias;
      const std::int64_t to = n - 1 - at;
      std::copy_n(few.product.x.begin() + at * in, in, other.product.x.begin() + to * in);
      std::copy_n(few.residual.begin() + at * width, width, other.residual.begin() + to * width);
      const std::vector<float> got = gpu_linear_layer_norm(other);
      RC_ASSERT(tolerance::bitwise_equal(std::vector<float>(expected.begin() + at * width, expected.begin() + (at + 1) * width),
                              std::vector<float>(got.begin() + to * width, got.begin() + (to + 1) * width)));
    }
  }));
}

// ---- layer norm -----------------------------------------------------------------------------------

LayerNormCase random_layer_norm(Rng& rng, std::int64_t rows, int width, bool with_residual, double offset,
                                double spread) {
  LayerNormCase c;
  c.rows = rows;
  c.width = width;
  c.x.resize(static_cast<std::size_t>(rows * width));
  for (std::int64_t i = 0; i < rows; ++i) {
    const double row_offset = offset * rng.uniform(-1.0, 1.0);
    for (int j = 0; j < width; ++j) c.x[static_cast<std::size_t>(i * width + j)] = rng.normal(row_offset, spread);
  }
  if (with_residual) c.residual = rng.normals(c.x.size(), 0.0, spread);
  c.weight = rng.normals(static_cast<std::size_t>(width), 1.0, 0.5);
  c.bias = rng.normals(static_cast<std::size_t>(width), 0.0, 0.5);
  return c;
}

TEST(LayerProperties, LayerNormMatchesDoubleReference) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("layer_norm vs double reference, factor rule", [] {
    const auto rows = *rc::gen::inRange<std::int64_t>(0, 100);
    const int width = *rc::gen::inRange(1, 600);  // registers up to 256, the re-reading path above
    const bool with_residual = *rc::gen::arbitrary<bool>();
    Rng rng(any_seed());
    const double offset = std::pow(10.0, rng.uniform(-2.0, 2.0));
    const double spread = std::pow(10.0, rng.uniform(-2.0, 1.0));
    const LayerNormCase c = random_layer_norm(rng, rows, width, with_residual, offset, spread);
    const tolerance::Check check = check_rule("layer_norm", flat_double(reference_layer_norm<double>(c)), gpu_layer_norm(c),
                                       flat_float(reference_layer_norm<float>(c)), tolerance::kLayerNormFactor);
    tolerance::RatioLog::global().add("layer_norm", check);
    RC_LOG() << check.text << "\n";
    RC_ASSERT(check.ok);
  }));
  tolerance::RatioLog::global().print("layer_norm");
}

// kernels::mixed::layer_norm: the double reference to double rounding (mixed_layer_norm_floor), in
// place or not, on rows with offsets up to 1e2 and spreads down to 1e-2.
TEST(LayerProperties, MixedLayerNormIsDoubleArithmetic) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("mixed::layer_norm vs double reference", [] {
    const auto rows = *rc::gen::inRange<std::int64_t>(0, 100);
    const int width = *rc::gen::inRange(1, 600);
    Rng rng(any_seed());
    const double offset = std::pow(10.0, rng.uniform(-2.0, 2.0));
    const double spread = std::pow(10.0, rng.uniform(-2.0, 1.0));
    const LayerNormCase c = random_layer_norm(rng, rows, width, *rc::gen::arbitrary<bool>(), offset, spread);
    std::string where;
    const bool ok = tolerance::within_double_rounding(flat_double(reference_layer_norm<double>(c)),
                                                              gpu_mixed_layer_norm(c, *rc::gen::arbitrary<bool>()),
                                                              mixed_layer_norm_floor(c), false, where);
    RC_LOG() << where << "\n";
    RC_ASSERT(ok);
  }));
}

// Rows with mean ~1e3 and a spread of 1e-3..1e-1: the float32 baseline loses digits to the
// rounding of its mean; the kernel must stay within 2^-16 of the largest output (relative) and
// within the factor rule.
TEST(LayerProperties, LayerNormLargeOffsetRowsStayAccurate) {
  ARTABPFN_REQUIRE_GPU();
  static double worst_relative = 0.0;
  EXPECT_TRUE(rc::check("layer_norm with mean 1e3 and small variance", [] {
    const auto rows = *rc::gen::inRange<std::int64_t>(1, 64);
    const int width = *rc::gen::inRange(2, 600);
    Rng rng(any_seed());
    const double spread = std::pow(10.0, rng.uniform(-3.0, -1.0));
    LayerNormCase c = random_layer_norm(rng, rows, width, false, 0.0, spread);
    const double offset = rng.uniform(1e3, 1e4) * (rng.uniform(0.0, 1.0) < 0.5 ? -1.0 : 1.0);
    for (float& v : c.x) v = static_cast<float>(offset + static_cast<double>(v));
    const std::vector<double> ref = flat_double(reference_layer_norm<double>(c));
    const tolerance::Check check =
        check_rule("layer_norm offset", ref, gpu_layer_norm(c), flat_float(reference_layer_norm<float>(c)), tolerance::kLayerNormFactor);
    tolerance::RatioLog::global().add("layer_norm_offset", check);
    double top = 0.0;
    for (double r : ref) top = std::max(top, std::abs(r));
    worst_relative = std::max(worst_relative, check.got.max_abs / top);
    RC_LOG() << check.text << "\n";
    RC_ASSERT(check.ok);
    RC_ASSERT(check.got.max_abs <= std::ldexp(top, -16));
  }));
  tolerance::RatioLog::global().print("layer_norm_offset");
  std::printf("[offset] layer_norm large-offset rows: worst max|err| / max|ref| = %.3g (bound 2^-16 = %.3g)\n",
              worst_relative, std::ldexp(1.0, -16));
}

TEST(LayerProperties, LayerNormIsBitwiseBatchInvariant) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("layer_norm batch invariance", [] {
    const int width = *rc::gen::inRange(1, 600);
    const auto rows = *rc::gen::inRange<std::int64_t>(2, 200);
    const auto split = *rc::gen::inRange<std::int64_t>(1, rows);
    const bool with_residual = *rc::gen::arbitrary<bool>();
    Rng rng(any_seed());
    const LayerNormCase all = random_layer_norm(rng, rows, width, with_residual, 10.0, 1.0);
    LayerNormCase tail = all;  // rows split..rows-1 alone: every row moves to another position
    tail.rows = rows - split;
    tail.x.assign(all.x.begin() + split * width, all.x.end());
    if (with_residual) tail.residual.assign(all.residual.begin() + split * width, all.residual.end());
    const std::vector<float> y_all = gpu_layer_norm(all), y_tail = gpu_layer_norm(tail);
    RC_ASSERT(tolerance::bitwise_equal(y_tail, std::vector<float>(y_all.begin() + split * width, y_all.end())));
  }));
}

// ---- gelu ------------------------------------------------------------------------------------------

TEST(LayerProperties, GeluMatchesDoubleReference) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("gelu vs double reference, factor rule", [] {
    const auto count = *rc::gen::inRange<std::int64_t>(0, 5000);
    Rng rng(any_seed());
    const double scale = std::pow(10.0, rng.uniform(-3.0, 1.3));
    const std::vector<float> x = rng.normals(static_cast<std::size_t>(count), 0.0, scale);
    const std::vector<double> ref = flat_double(Matrix<double>(reference::gelu(to_matrix<double>(x, 1, count))));
    const tolerance::Check check = tolerance::check("gelu", ref, gpu_gelu(x), flat_float(Matrix<float>(reference::gelu(to_matrix<float>(x, 1, count)))),
                                       tolerance::kGeluFactor, gelu_floor(x, ref));
    tolerance::RatioLog::global().add("gelu", check);
    RC_LOG() << check.text << "\n";
    RC_ASSERT(check.ok);
  }));
  tolerance::RatioLog::global().print("gelu");
}

// ---- determinism -----------------------------------------------------------------------------------

TEST(LayerProperties, EveryKernelIsBitwiseDeterministic) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("two launches give the same bits", [] {
    const auto rows = *rc::gen::inRange<std::int64_t>(1, 300);
    const int in = *rc::gen::inRange(1, 300);
    const int out = *rc::gen::inRange(1, 300);
    const int k = *rc::gen::inRange(2, 33);
    Rng rng(any_seed());
    const LinearCase lin = random_linear(rng, rows, in, out, true, *rc::gen::arbitrary<bool>(), any_epilogue());
    RC_ASSERT(tolerance::bitwise_equal(gpu_linear(lin), gpu_linear(lin)));
    const LayerNormCase ln = random_layer_norm(rng, rows, in, *rc::gen::arbitrary<bool>(), 3.0, 1.0);
    RC_ASSERT(tolerance::bitwise_equal(gpu_layer_norm(ln), gpu_layer_norm(ln)));
    const LinearLayerNormCase lln = random_linear_layer_norm(rng, rows, 4 * (in / 4 + 1), out % 256 + 1);
    RC_ASSERT(tolerance::bitwise_equal(gpu_linear_layer_norm(lln), gpu_linear_layer_norm(lln)));
    RC_ASSERT(tolerance::bitwise_equal(gpu_gelu(lin.x), gpu_gelu(lin.x)));
    const MixtureCase mix = random_mixture(rng, rows, k, 8.0);
    const GpuMixtureParams p1 = gpu_mixture_params(mix), p2 = gpu_mixture_params(mix);
    RC_ASSERT(tolerance::bitwise_equal(p1.mean, p2.mean) && tolerance::bitwise_equal(p1.std_dev, p2.std_dev) &&
              tolerance::bitwise_equal(p1.log_weight, p2.log_weight));
    const std::vector<float> y = rng.normals(static_cast<std::size_t>(rows), 0.0, 3.0);
    RC_ASSERT(tolerance::bitwise_equal(gpu_mixture_log_density(mix, y), gpu_mixture_log_density(mix, y)));
    std::vector<std::uint32_t> task(static_cast<std::size_t>(rows), 3u), sample(static_cast<std::size_t>(rows));
    for (std::size_t i = 0; i < sample.size(); ++i) sample[i] = static_cast<std::uint32_t>(i);
    const GpuSamples s1 = gpu_mixture_sample(mix, 42, task, sample, 7), s2 = gpu_mixture_sample(mix, 42, task, sample, 7);
    RC_ASSERT(tolerance::bitwise_equal(s1.y, s2.y));
    RC_ASSERT(s1.component == s2.component);
  }));
}

}  // namespace
