// Properties of the mixture head's kernels (kernels/head.hpp) and the sampler on the GPU, against
// the double reference (reference/mixture_head.hpp, the random-stream contract): the mixture's
// parameters and log density within a few float32 ulps of double, the sampler drawing the
// reference's samples, and the device's random words bitwise the host's. The rule and the
// launchers are those of layer_properties.cpp.
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
#include "properties/gpu_layer/random_words.hpp"
#include "tests/support/gpu/device_calls.hpp"
#include "tests/support/gpu/layer_rule.hpp"
#include "tests/support/gpu/linear_harness.hpp"
#include "tests/support/gpu/mixture_harness.hpp"
#include "tests/support/gpu_available.hpp"
#include "tolerance/bitwise.hpp"
#include "tolerance/double_rounding.hpp"
#include "tolerance/ratio_log.hpp"

namespace {

using namespace artabpfn::gpu_layer_test;
namespace random_stream = artabpfn::random_stream;
namespace reference = artabpfn::reference;
namespace tolerance = artabpfn::tolerance;

// ---- mixture head ----------------------------------------------------------------------------------

double any_logit_spread() { return *rc::gen::element(2.0, 8.0, 50.0); }

// The mixture kernels do their scalar work in double and round each output once (mixture.cu), so
// from the same float inputs every output is within one float ulp of the double reference (half
// an ulp of rounding plus double-level differences: 1e-12 absolute covers those near zero).
// Returns the largest error in units of float ulps of the reference value.
double worst_ulps(const std::vector<double>& ref, const std::vector<float>& got) {
  double worst = 0.0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(ref[i])) continue;
    const double ulp = std::ldexp(1.0, std::ilogb(std::max(std::abs(ref[i]), 1e-30)) - 23);
    worst = std::max(worst, std::max(0.0, std::abs(static_cast<double>(got[i]) - ref[i]) - 1e-12) / ulp);
  }
  return worst;
}

double& worst_ulps_seen() {
  static double worst = 0.0;
  return worst;
}

TEST(LayerProperties, MixtureParamsMatchDoubleReference) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("mixture params vs double reference (logits up to +-50)", [] {
    const auto rows = *rc::gen::inRange<std::int64_t>(0, 300);
    const int k = *rc::gen::inRange(2, 40);
    Rng rng(any_seed());
    const MixtureCase c = random_mixture(rng, rows, k, any_logit_spread());
    const GpuMixtureParams gpu = gpu_mixture_params(c);
    const auto md = reference_mixture<double>(c);
    const auto mf = reference_mixture<float>(c);
    std::array<std::vector<double>, 3> ref;
    std::array<std::vector<float>, 3> f32;
    for (std::size_t i = 0; i < md.size(); ++i)
      for (int j = 0; j < k; ++j) {
        ref[0].push_back(md[i].mean(j));
        ref[1].push_back(md[i].std(j));
        ref[2].push_back(md[i].log_weight(j));
        f32[0].push_back(mf[i].mean(j));
        f32[1].push_back(mf[i].std(j));
        f32[2].push_back(mf[i].log_weight(j));
      }
    const std::array<const std::vector<float>*, 3> got{&gpu.mean, &gpu.std_dev, &gpu.log_weight};
    const char* names[3] = {"mixture_mean", "mixture_std", "mixture_log_weight"};
    for (int p = 0; p < 3; ++p) {
      const tolerance::Check check = check_rule(names[p], ref[p], *got[p], f32[p], tolerance::kMixtureFactor);
      tolerance::RatioLog::global().add(names[p], check);
      RC_LOG() << check.text << "\n";
      RC_ASSERT(check.ok);
      const double ulps = worst_ulps(ref[p], *got[p]);
      worst_ulps_seen() = std::max(worst_ulps_seen(), ulps);
      RC_ASSERT(ulps <= 1.0);
    }
  }));
  for (const char* name : {"mixture_mean", "mixture_std", "mixture_log_weight"})
    tolerance::RatioLog::global().print(name);
  std::printf("[rounded] mixture params and log density: worst error so far %.3g float ulps of the reference\n",
              worst_ulps_seen());
}

TEST(LayerProperties, MixtureLogDensityMatchesDoubleReference) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("mixture log density vs double reference (extreme logits, tails)", [] {
    const auto rows = *rc::gen::inRange<std::int64_t>(0, 300);
    const int k = *rc::gen::inRange(2, 40);
    Rng rng(any_seed());
    const MixtureCase c = random_mixture(rng, rows, k, any_logit_spread());
    // y: near the means, or far in the tails (|y| up to 1e6, z up to ~1e9: log p ~ -1e18, finite
    // in float and in double).
    const double tail = *rc::gen::element(1.0, 1e2, 1e6);
    std::vector<float> y(static_cast<std::size_t>(rows));
    for (float& v : y) v = rng.normal(0.0, 3.0) + static_cast<float>(tail * rng.uniform(-1.0, 1.0));
    const auto md = reference_mixture<double>(c);
    const auto mf = reference_mixture<float>(c);
    std::vector<double> ref(y.size());
    std::vector<float> f32(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
      ref[i] = reference::log_density(md[i], static_cast<double>(y[i]));
      f32[i] = reference::log_density(mf[i], y[i]);
    }
    const std::vector<float> gpu = gpu_mixture_log_density(c, y);
    for (std::size_t i = 0; i < y.size(); ++i)
      if (std::isfinite(ref[i])) RC_ASSERT(std::isfinite(gpu[i]));
    const tolerance::Check check = check_rule("mixture_log_density", ref, gpu, f32, tolerance::kDensityFactor);
    tolerance::RatioLog::global().add("mixture_log_density", check);
    RC_LOG() << check.text << "\n";
    RC_ASSERT(check.ok);
    const double ulps = worst_ulps(ref, gpu);
    worst_ulps_seen() = std::max(worst_ulps_seen(), ulps);
    RC_ASSERT(ulps <= 1.0);
  }));
  tolerance::RatioLog::global().print("mixture_log_density");
  std::printf("[rounded] mixture params and log density: worst error so far %.3g float ulps of the reference\n",
              worst_ulps_seen());
}

// The head from z: linear(head_in, GELU epilogue), linear(head_out), log density. Each stage is held
// to its own rule against the double reference on the same inputs (the stage before's GPU output):
// the end-to-end error against reference::mixture_head<double> is printed, not asserted, because a
// rule on it is not robust: one sensitive row (y far from a narrow component) dominates both the
// GPU's and the float32 baseline's error, and the ratio of two such rounding errors is heavy-tailed
// (a host emulation over 20000 cases failed factor 16 twice).
TEST(LayerProperties, HeadStagesMatchDoubleReference) {
  ARTABPFN_REQUIRE_GPU();
  static double worst_nats = 0.0;
  EXPECT_TRUE(rc::check("head z -> log p(y): every stage vs the double reference", [] {
    const auto rows = *rc::gen::inRange<std::int64_t>(1, 100);
    const int d = *rc::gen::inRange(1, 160);
    const int d_ff = *rc::gen::inRange(1, 300);
    const int k = *rc::gen::inRange(2, 30);
    Rng rng(any_seed());
    LinearCase head_in = random_linear(rng, rows, d, d_ff, true, false, Epilogue::kGelu);
    head_in.x = rng.normals(head_in.x.size(), 0.0, 1.0);  // z is a LayerNorm output
    LinearCase head_out = random_linear(rng, rows, d_ff, 3 * k, true, false, Epilogue::kNone);
    MixtureCase mix = random_mixture(rng, rows, k, 2.0);
    const std::vector<float> y = rng.normals(static_cast<std::size_t>(rows), 0.0, 3.0);

    // Stage 1: GELU(W_a z + b_a).
    head_out.x = gpu_linear(head_in);
    const tolerance::Check hidden = tolerance::check("head hidden", flat_double(reference_linear<double>(head_in)), head_out.x,
                                        flat_float(reference_linear<float>(head_in)), tolerance::kLinearFactor,
                                        linear_floor(head_in));
    RC_LOG() << hidden.text << "\n";
    RC_ASSERT(hidden.ok);
    // Stage 2: r = W_b (.) + b_b from the GPU's hidden values.
    mix.r = gpu_linear(head_out);
    const tolerance::Check r = tolerance::check("head r", flat_double(reference_linear<double>(head_out)), mix.r,
                                   flat_float(reference_linear<float>(head_out)), tolerance::kLinearFactor,
                                   linear_floor(head_out));
    RC_LOG() << r.text << "\n";
    RC_ASSERT(r.ok);
    // Stage 3: log p(y) from the GPU's r, rounded once from double.
    const std::vector<float> density = gpu_mixture_log_density(mix, y);
    std::vector<double> stage_ref(y.size());
    for (std::int64_t i = 0; i < rows; ++i)
      stage_ref[static_cast<std::size_t>(i)] =
          reference::log_density(reference_mixture_row<double>(mix, i), static_cast<double>(y[static_cast<std::size_t>(i)]));
    RC_ASSERT(worst_ulps(stage_ref, density) <= 1.0);

    // End to end, reported: reference::mixture_head runs the same two linear maps from z.
    const auto params = [&]<class T>(T) {
      reference::ModelParams<T> p;
      p.config.num_components = k;
      p.head_in = {to_matrix<T>(head_in.weight, d_ff, d), to_row<T>(head_in.bias)};
      p.head_out = {to_matrix<T>(head_out.weight, 3 * k, d_ff), to_row<T>(head_out.bias)};
      p.mean_bias = to_row<T>(mix.mean_bias);
      p.std_bias = to_row<T>(mix.std_bias);
      p.weight_bias = to_row<T>(mix.weight_bias);
      return p;
    };
    const auto md = reference::mixture_head(params(0.0), to_matrix<double>(head_in.x, rows, d));
    const auto mf = reference::mixture_head(params(0.0f), to_matrix<float>(head_in.x, rows, d));
    std::vector<double> ref(y.size());
    std::vector<float> f32(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
      ref[i] = reference::log_density(md[i], static_cast<double>(y[i]));
      f32[i] = reference::log_density(mf[i], y[i]);
    }
    const tolerance::Check end_to_end = check_rule("head end to end", ref, density, f32, 0.0);
    tolerance::RatioLog::global().add("head_end_to_end (reported, not asserted)", end_to_end);
    worst_nats = std::max(worst_nats, end_to_end.got.max_abs);
  }));
  tolerance::RatioLog::global().print("head_end_to_end (reported, not asserted)");
  std::printf("[head] largest end-to-end log-density error: %.3g nats\n", worst_nats);
}

// ---- sampler ---------------------------------------------------------------------------------------

// Rounding of the cumulative weight sum: the GPU sums K float weights (each rounded once) in
// float32; every partial sum is <= 1, so its error is below (K + 1) half-ulps of 1. A pick may
// differ from the double reference's only when the uniform lies that close to a boundary; the
// check allows 4x that.
double boundary_tolerance(int k) { return 4.0 * (k + 1) * std::ldexp(1.0, -24); }

struct SamplerTally {
  std::size_t samples = 0, boundary_mismatches = 0, float_reference_mismatches = 0, crafted = 0;
};

TEST(LayerProperties, SamplerDrawsTheDoubleReferenceSamples) {
  ARTABPFN_REQUIRE_GPU();
  static SamplerTally tally;
  EXPECT_TRUE(rc::check("sampler vs reference::sample_mixture<double>, same draws", [] {
    const auto rows = *rc::gen::inRange<std::int64_t>(1, 400);
    const int k = *rc::gen::inRange(2, 33);
    const std::uint64_t seed = any_seed();
    const auto step = *rc::gen::inRange<std::uint32_t>(0, 1000);
    Rng rng(any_seed());
    MixtureCase c = random_mixture(rng, rows, k, any_logit_spread());
    std::vector<std::uint32_t> task(static_cast<std::size_t>(rows)), sample(static_cast<std::size_t>(rows));
    for (std::size_t i = 0; i < task.size(); ++i) {
      task[i] = static_cast<std::uint32_t>(rng.engine() % 8);
      sample[i] = static_cast<std::uint32_t>(i);
    }
    // Odd rows are adversarial: weights chosen so that a cumulative boundary sits on the row's
    // own uniform (up to the float rounding of r), where float and double may pick differently.
    for (std::int64_t i = 1; i < rows; i += 2) {
      const std::size_t ii = static_cast<std::size_t>(i);
      const double u = random_stream::draw_for(seed, task[ii], sample[ii], step).component_uniform;
      const int boundary = static_cast<int>(rng.engine() % static_cast<std::uint64_t>(k - 1));
      std::vector<double> p(static_cast<std::size_t>(k));
      double below = 0.0, above = 0.0;
      for (int j = 0; j < k; ++j) {
        p[static_cast<std::size_t>(j)] = rng.uniform(0.05, 1.0);
        (j <= boundary ? below : above) += p[static_cast<std::size_t>(j)];
      }
      for (int j = 0; j < k; ++j) {
        const std::size_t jj = static_cast<std::size_t>(j);
        const double w = j <= boundary ? p[jj] / below * u : p[jj] / above * (1.0 - u);
        c.r[static_cast<std::size_t>(i * 3 * k + 3 * j + 2)] = static_cast<float>(std::log(w) - c.weight_bias[jj]);
      }
      ++tally.crafted;
    }
    const GpuSamples gpu = gpu_mixture_sample(c, seed, task, sample, step);

    std::vector<double> ref;
    std::vector<float> got, f32;
    for (std::int64_t i = 0; i < rows; ++i) {
      const std::size_t ii = static_cast<std::size_t>(i);
      const auto md = reference_mixture_row<double>(c, i);
      const auto mf = reference_mixture_row<float>(c, i);
      const random_stream::Draw draw = random_stream::draw_for(seed, task[ii], sample[ii], step);
      const auto kd = reference::pick_component(md, draw.component_uniform);
      const std::int32_t kg = gpu.component[ii];
      RC_ASSERT(kg >= 0 && kg < k);
      if (reference::pick_component(mf, draw.component_uniform) != kd) ++tally.float_reference_mismatches;
      ++tally.samples;
      if (kg != kd) {
        // Every boundary between the two picks must lie within rounding of the uniform.
        double cumulative = 0.0;
        for (int j = 0; j < std::max<int>(kg, static_cast<int>(kd)); ++j) {
          cumulative += std::exp(md.log_weight(j));
          if (j >= std::min<int>(kg, static_cast<int>(kd))) {
            RC_LOG() << "row " << i << ": gpu picks " << kg << ", double " << kd << ", u " << draw.component_uniform
                     << ", boundary " << cumulative << "\n";
            RC_ASSERT(std::abs(draw.component_uniform - cumulative) <= boundary_tolerance(k));
          }
        }
        ++tally.boundary_mismatches;
        continue;
      }
      ref.push_back(reference::sample_mixture(md, draw));
      got.push_back(gpu.y[ii]);
      f32.push_back(mf.mean(kd) + mf.std(kd) * static_cast<float>(draw.normal));
    }
    const tolerance::Check check = check_rule("mixture_sample", ref, got, f32, tolerance::kSampleFactor);
    tolerance::RatioLog::global().add("mixture_sample", check);
    RC_LOG() << check.text << "\n";
    RC_ASSERT(check.ok);
  }));
  tolerance::RatioLog::global().print("mixture_sample");
  std::printf("[sampler] %zu samples (%zu on crafted boundary rows): %zu component picks differ from the double "
              "reference, every one a boundary case; the float32 reference itself differs on %zu\n",
              tally.samples, tally.crafted, tally.boundary_mismatches, tally.float_reference_mismatches);
  std::fflush(stdout);
}

// The device's Philox words equal the host's, bit for bit (the one random_stream header).
TEST(LayerProperties, RandomStreamWordsAreBitwiseEqualToHost) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("random_stream::draw words, device == host", [] {
    const auto count = *rc::gen::inRange<std::int64_t>(1, 3000);
    const std::uint64_t seed = any_seed();
    const auto step = *rc::gen::arbitrary<std::uint32_t>();
    Rng rng(any_seed());
    std::vector<std::uint32_t> task(static_cast<std::size_t>(count)), sample(static_cast<std::size_t>(count));
    for (std::size_t i = 0; i < task.size(); ++i) {
      task[i] = static_cast<std::uint32_t>(rng.engine());
      sample[i] = i % 2 == 0 ? static_cast<std::uint32_t>(i) : static_cast<std::uint32_t>(rng.engine());
    }
    DeviceBuffer<std::uint32_t> d_task(task), d_sample(sample);
    GuardedOutput out(static_cast<std::size_t>(count) * 8);
    draw_words_on_device(seed, d_task.data(), d_sample.data(), step, count, out.data());
    device_sync();
    const std::vector<float> halves = out.checked_download("draw words");
    for (std::size_t i = 0; i < task.size(); ++i) {
      const random_stream::Words host = random_stream::draw(seed, task[i], sample[i], step);
      for (std::size_t j = 0; j < 4; ++j) {
        const auto low = static_cast<std::uint32_t>(halves[8 * i + 2 * j]);
        const auto high = static_cast<std::uint32_t>(halves[8 * i + 2 * j + 1]);
        RC_ASSERT((low | (high << 16)) == host.w[j]);
      }
    }
  }));
}

}  // namespace
