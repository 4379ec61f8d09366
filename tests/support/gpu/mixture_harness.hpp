#pragma once
// The mixture head's kernels (kernels/head.hpp: mixture_params, mixture_log_density,
// mixture_sample) in tests: a case (the head's rows r and the three biases), its random inputs,
// the launches into poisoned, guard-banded GuardedOutputs checked after the launch, and the
// reference mixture (double: the oracle; float: the plain float32 baseline).
#include <cstdint>
#include <vector>

#include "reference/mixture_head.hpp"
#include "tests/support/gpu/host_values.hpp"

namespace artabpfn::gpu_layer_test {

struct MixtureCase {
  std::int64_t rows = 0;
  int k = 0;
  std::vector<float> r;  // [rows, 3K]
  std::vector<float> mean_bias, std_bias, weight_bias;
};

// Random r: means and std logits of the given spread; weight logits of the given spread (set
// `logit_spread` to 50 for extreme logits).
MixtureCase random_mixture(Rng& rng, std::int64_t rows, int k, double logit_spread);

struct GpuMixtureParams {
  std::vector<float> mean, std_dev, log_weight;  // [rows, K]
};
GpuMixtureParams gpu_mixture_params(const MixtureCase& c);

std::vector<float> gpu_mixture_log_density(const MixtureCase& c, const std::vector<float>& y);

struct GpuSamples {
  std::vector<float> y;
  std::vector<std::int32_t> component;
};
GpuSamples gpu_mixture_sample(const MixtureCase& c, std::uint64_t seed, const std::vector<std::uint32_t>& task,
                              const std::vector<std::uint32_t>& sample, std::uint32_t step, bool with_component = true);

// The reference mixture of one row of r: the per-row formula of reference::mixture_head
// (reference/mixture_head.hpp), applied to r directly (that function starts from z and runs the
// head's two linear maps first; head_end_to_end checks that composition). Instantiated for double
// and float.
template <class T>
reference::Mixture<T> reference_mixture_row(const MixtureCase& c, std::int64_t row);
template <class T>
std::vector<reference::Mixture<T>> reference_mixture(const MixtureCase& c);

}  // namespace artabpfn::gpu_layer_test
