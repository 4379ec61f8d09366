#pragma once
// The mixture head's per-row formulas (the contract at the top of mixture.cu), shared by the head
// kernels (mixture.cu) and the resident decode step (kernels/decode/), so both compute a row's
// log density and sample with the same double operations in the same order.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "artabpfn/random_stream.hpp"
#include "kernels/layer.hpp"

namespace artabpfn::kernels::detail {

constexpr double kLogTwoPi = 1.837877066409345483560659472811;  // log(2 pi)

struct RowMixture {
  const float* r;  // this row's 3K numbers
  MixtureBiases b;

  __device__ double mean(int k) const { return static_cast<double>(r[3 * k]) + b.mean_bias[k]; }
  __device__ double std_dev(int k) const {
    const double u = static_cast<double>(r[3 * k + 1]) + b.std_bias[k];
    return fmin(u > 20.0 ? u : log1p(exp(u)), 2.0) + 1e-3;
  }
  __device__ double logit(int k) const { return static_cast<double>(r[3 * k + 2]) + b.weight_bias[k]; }
};

// log_weight_k = (logit_k - max) - log_sum.
struct LogSoftmax {
  double max, log_sum;
  __device__ double operator()(double logit) const { return (logit - max) - log_sum; }
};

__device__ inline LogSoftmax log_softmax_of(const RowMixture& m) {
  const int k_count = m.b.components;
  double max = m.logit(0);
  for (int k = 1; k < k_count; ++k) max = fmax(max, m.logit(k));
  double sum = 0.0;
  for (int k = 0; k < k_count; ++k) sum += exp(m.logit(k) - max);
  return LogSoftmax{max, log(sum)};
}

__device__ inline double density_term(const RowMixture& m, const LogSoftmax& lw, int k, double y) {
  const double sd = m.std_dev(k);
  const double z = (y - m.mean(k)) / sd;
  return lw(m.logit(k)) - (kLogTwoPi + 2.0 * log(sd) + z * z) * 0.5;
}

// log p(y) of one row r [3K], rounded once to float (-inf when every term underflows).
__device__ inline float mixture_log_density_row(const float* r, const MixtureBiases& b, double y) {
  const int k_count = b.components;
  const RowMixture m{r, b};
  const LogSoftmax lw = log_softmax_of(m);
  double top = -INFINITY;
  for (int k = 0; k < k_count; ++k) top = fmax(top, density_term(m, lw, k, y));
  double result = -INFINITY;
  if (top > -INFINITY) {
    double sum = 0.0;
    for (int k = 0; k < k_count; ++k) sum += exp(density_term(m, lw, k, y) - top);
    result = top + log(sum);
  }
  return static_cast<float>(result);
}

struct MixtureDraw {
  float y;
  int component;
};

// One draw of the random-stream contract for (seed, task, sample, step) from row r [3K].
__device__ inline MixtureDraw mixture_sample_row(const float* r, const MixtureBiases& b, std::uint64_t seed,
                                                 std::uint32_t task, std::uint32_t sample, std::uint32_t step) {
  const int k_count = b.components;
  const RowMixture m{r, b};
  const LogSoftmax lw = log_softmax_of(m);
  const random_stream::Draw draw = random_stream::draw_for(seed, task, sample, step);
  int pick = k_count - 1;
  float cumulative = 0.0f;
  for (int k = 0; k < k_count; ++k) {
    cumulative += static_cast<float>(exp(lw(m.logit(k))));
    if (draw.component_uniform < static_cast<double>(cumulative)) {
      pick = k;
      break;
    }
  }
  const float mean = static_cast<float>(m.mean(pick));
  const float sd = static_cast<float>(m.std_dev(pick));
  return {mean + sd * static_cast<float>(draw.normal), pick};
}

}  // namespace artabpfn::kernels::detail
