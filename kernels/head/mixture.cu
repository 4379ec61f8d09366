// The mixture head's last stage (docs/model.md, "The mixture head"), from r [rows, 3K]
// (component k: r[3k] mean, r[3k+1] std, r[3k+2] weight logit) and the biases [K]:
//   mixture_params       mean, std_dev, log_weight [rows, K]
//   mixture_log_density  log p(y) [rows]
//   mixture_sample       y [rows] and optionally the chosen component [rows] (int32)
// One thread per row (mixture_sample: one warp per row), 128 threads per block, blocks along x
// (64-bit row index). Each kernel recomputes the components it needs from r instead of storing them.
//
// Precision: inputs and outputs are float32, but the head's scalar work (K exp/log per row, a
// negligible cost next to the linear maps that produce r) is done in double from the float inputs,
// so each output is the double formula rounded once to float and the head adds no error of its
// own to the end-to-end log density. This also keeps (y - mean)^2 / std^2 finite for y far in the
// tails (std >= 1e-3), where float32 would overflow to inf.
//   mean_k  = r[3k] + mean_bias[k]
//   std_k   = min(softplus(r[3k+1] + std_bias[k]), 2) + 1e-3,  softplus(u) = u (u > 20), else log1p(exp(u))
//   logit_k = r[3k+2] + weight_bias[k];  M = max_k logit_k;  S = sum_k exp(logit_k - M)
//   log_weight_k = (logit_k - M) - log(S)
//   term_k  = log_weight_k - (log(2 pi) + 2 log std_k + z_k^2) / 2,  z_k = (y - mean_k) / std_k
//   log p   = T + log(sum_k exp(term_k - T)),  T = max_k term_k;  -inf (not NaN) if T = -inf
//   sample  (u, normal) = random_stream::draw_for(seed, task_id, sample, step); k = the smallest k
//           with u < sum_{j<=k} w_j, w_j = exp(log_weight_j) rounded to float, the cumulative sum
//           accumulated in float32 in order k = 0..K-1 and compared in double; K-1 if none;
//           y = mean_k + std_k * (float)normal in float32, mean_k and std_k rounded to float first
//           (the value reference::sample_mixture<float> computes).
// Why the reduction order is fixed: every sum, max and cumulative sum runs sequentially over
// k = 0..K-1 in the row's own thread; it depends on K alone, so results are bitwise batch
// invariant, and the sampler's draw depends only on (seed, task_id, sample, step).
#include <cuda_runtime.h>

#include <cmath>

#include "artabpfn/random_stream.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"
#include "kernels/head.hpp"
#include "kernels/layer/device_math.cuh"

namespace artabpfn::kernels {
namespace {

constexpr int kThreads = 128;
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

__device__ LogSoftmax log_softmax_of(const RowMixture& m) {
  const int k_count = m.b.components;
  double max = m.logit(0);
  for (int k = 1; k < k_count; ++k) max = fmax(max, m.logit(k));
  double sum = 0.0;
  for (int k = 0; k < k_count; ++k) sum += exp(m.logit(k) - max);
  return LogSoftmax{max, log(sum)};
}

__device__ double density_term(const RowMixture& m, const LogSoftmax& lw, int k, double y) {
  const double sd = m.std_dev(k);
  const double z = (y - m.mean(k)) / sd;
  return lw(m.logit(k)) - (kLogTwoPi + 2.0 * log(sd) + z * z) * 0.5;
}

__global__ void __launch_bounds__(kThreads)
    mixture_params_kernel(const float* r, MixtureBiases b, std::int64_t rows, float* mean, float* std_dev,
                          float* log_weight) {
  detail::start_after_previous_kernel();
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (row >= rows) return;
  const int k_count = b.components;
  const RowMixture m{r + row * 3 * k_count, b};
  const LogSoftmax lw = log_softmax_of(m);
  const std::int64_t out = row * k_count;
  for (int k = 0; k < k_count; ++k) {
    mean[out + k] = static_cast<float>(m.mean(k));
    std_dev[out + k] = static_cast<float>(m.std_dev(k));
    log_weight[out + k] = static_cast<float>(lw(m.logit(k)));
  }
}

__global__ void __launch_bounds__(kThreads)
    mixture_log_density_kernel(const float* r, MixtureBiases b, const float* y, std::int64_t rows,
                               float* log_density, const int* step) {
  detail::start_after_previous_kernel();
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (row >= rows) return;
  if (step != nullptr) {  // step-major [steps, rows] arrays, step t from device memory
    const std::int64_t offset = static_cast<std::int64_t>(*step) * rows;
    y += offset;
    log_density += offset;
  }
  const int k_count = b.components;
  const RowMixture m{r + row * 3 * k_count, b};
  const LogSoftmax lw = log_softmax_of(m);
  const double value = y[row];
  double top = -INFINITY;
  for (int k = 0; k < k_count; ++k) top = fmax(top, density_term(m, lw, k, value));
  double result = -INFINITY;
  if (top > -INFINITY) {
    double sum = 0.0;
    for (int k = 0; k < k_count; ++k) sum += exp(density_term(m, lw, k, value) - top);
    result = top + log(sum);
  }
  log_density[row] = static_cast<float>(result);
}

// The value of lane (k % 32) of the chunk holding component k, on every lane.
template <class T>
__device__ __forceinline__ T lane_value(T v, int k) {
  return __shfl_sync(0xffffffffu, v, k % 32);
}

// A warp a row (a decode step samples one row a sample: at B 256 one thread a row left 254 of 256
// threads of two blocks idle behind 40 sequential double exps). The lanes evaluate the per-component
// exps in parallel; every sum, max and cumulative sum still runs over k = 0..K-1 in order (each
// lane repeats it on shuffled values), so the bits are those of the one-thread sequence above.
__global__ void __launch_bounds__(kThreads)
    mixture_sample_kernel(const float* r, MixtureBiases b, SampleCounters counters, std::int64_t rows, float* y,
                          std::int32_t* component) {
  detail::start_after_previous_kernel();
  const int lane = static_cast<int>(threadIdx.x % 32);
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * (kThreads / 32) + threadIdx.x / 32;
  if (row >= rows) return;  // the whole warp
  const int k_count = b.components;
  const RowMixture m{r + row * 3 * k_count, b};
  double max = -INFINITY;
  for (int k0 = 0; k0 < k_count; k0 += 32) {
    const double logit = k0 + lane < k_count ? m.logit(k0 + lane) : 0.0;
    for (int k = k0; k < k_count && k < k0 + 32; ++k) max = k == 0 ? lane_value(logit, k) : fmax(max, lane_value(logit, k));
  }
  double sum = 0.0;
  for (int k0 = 0; k0 < k_count; k0 += 32) {
    const double term = k0 + lane < k_count ? exp(m.logit(k0 + lane) - max) : 0.0;
    for (int k = k0; k < k_count && k < k0 + 32; ++k) sum += lane_value(term, k);
  }
  const LogSoftmax lw{max, log(sum)};
  std::uint32_t step = counters.step;
  if (counters.device_step != nullptr) {  // step-major [steps, rows] outputs, step t from device memory
    step = static_cast<std::uint32_t>(*counters.device_step);
    y += static_cast<std::int64_t>(step) * rows;
    if (component != nullptr) component += static_cast<std::int64_t>(step) * rows;
  }
  const random_stream::Draw draw =
      random_stream::draw_for(counters.seed, counters.task_id[row], counters.sample[row], step);
  int pick = k_count - 1;
  float cumulative = 0.0f;
  for (int k0 = 0; k0 < k_count && pick == k_count - 1; k0 += 32) {
    const float weight = k0 + lane < k_count ? static_cast<float>(exp(lw(m.logit(k0 + lane)))) : 0.0f;
    for (int k = k0; k < k_count && k < k0 + 32; ++k) {
      cumulative += lane_value(weight, k);
      if (draw.component_uniform < static_cast<double>(cumulative)) {
        pick = k;
        break;
      }
    }
  }
  if (lane != 0) return;
  const float mean = static_cast<float>(m.mean(pick));
  const float sd = static_cast<float>(m.std_dev(pick));
  y[row] = mean + sd * static_cast<float>(draw.normal);
  if (component != nullptr) component[row] = pick;
}

void check_biases(const MixtureBiases& b, const char* what) {
  detail::require(b.components >= 1, what);
  detail::require(b.mean_bias != nullptr && b.std_bias != nullptr && b.weight_bias != nullptr, what);
}

}  // namespace

void mixture_params(const float* r, const MixtureBiases& biases, std::int64_t rows, float* mean, float* std_dev,
                    float* log_weight, cudaStream_t stream) {
  check_biases(biases, "mixture_params: needs K >= 1 and three bias vectors");
  detail::require(rows >= 0, "mixture_params: negative rows");
  if (rows == 0) return;
  detail::launch(mixture_params_kernel, detail::blocks_for(rows, kThreads, "mixture_params"), kThreads, 0, stream, r,
                 biases, rows, mean, std_dev, log_weight);
}

void mixture_log_density(const float* r, const MixtureBiases& biases, const float* y, std::int64_t rows,
                         float* log_density, cudaStream_t stream) {
  check_biases(biases, "mixture_log_density: needs K >= 1 and three bias vectors");
  detail::require(rows >= 0, "mixture_log_density: negative rows");
  if (rows == 0) return;
  detail::launch(mixture_log_density_kernel, detail::blocks_for(rows, kThreads, "mixture_log_density"), kThreads, 0,
                 stream, r, biases, y, rows, log_density, nullptr);
}

void mixture_log_density_step(const float* r, const MixtureBiases& biases, const float* y_steps, const int* step,
                              std::int64_t rows, float* log_density_steps, cudaStream_t stream) {
  check_biases(biases, "mixture_log_density_step: needs K >= 1 and three bias vectors");
  detail::require(rows >= 0 && step != nullptr, "mixture_log_density_step: negative rows or null step");
  if (rows == 0) return;
  detail::launch(mixture_log_density_kernel, detail::blocks_for(rows, kThreads, "mixture_log_density"), kThreads, 0,
                 stream, r, biases, y_steps, rows, log_density_steps, step);
}

void mixture_sample(const float* r, const MixtureBiases& biases, const SampleCounters& counters,
                    std::int64_t rows, float* y, std::int32_t* component, cudaStream_t stream) {
  check_biases(biases, "mixture_sample: needs K >= 1 and three bias vectors");
  detail::require(rows >= 0, "mixture_sample: negative rows");
  if (rows == 0) return;
  detail::launch(mixture_sample_kernel, detail::blocks_for(rows, kThreads / 32, "mixture_sample"), kThreads, 0, stream,
                 r, biases, counters, rows, y, component);
}

}  // namespace artabpfn::kernels
