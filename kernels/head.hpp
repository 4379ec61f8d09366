#pragma once
// The mixture head's kernels (docs/model.md, "The mixture head"; kernels/head/mixture.cu): the K-component Gaussian
// mixture's parameters, log density and sampling from the head's last product r [rows, 3K].
// float32 in and out; the per-component scalar work (softplus, log-softmax, log density: K exp/log
// per row) runs in double from the float inputs and is rounded once to float, and the sampler's
// uniform and normal are double as the random-stream contract says.
//
// Every function takes device pointers and a stream, launches asynchronously with programmatic
// dependent launch (kernels/launch.cuh), and checks the launch (a bad configuration throws
// CudaError at once). rows == 0 launches nothing. Batch invariant: each row is computed by its own
// thread (mixture_sample: warp) in a fixed order over k = 0..K-1. Grids use the x dimension only
// with 64-bit row indices.
#include <cuda_runtime.h>

#include <cstdint>

namespace artabpfn::kernels {

// r [rows, 3K]: component k reads r[3k] (mean), r[3k+1] (std), r[3k+2] (weight logit).
struct MixtureBiases {
  const float* mean_bias;    // [K]
  const float* std_bias;     // [K]
  const float* weight_bias;  // [K]
  int components;            // K >= 1
};

// mean_k = r[3k] + mean_bias[k]; std_k = min(softplus(r[3k+1] + std_bias[k]), 2) + 1e-3;
// log_weight = log_softmax(r[3k+2] + weight_bias[k]).   mean, std_dev, log_weight [rows, K]
void mixture_params(const float* r, const MixtureBiases& biases, std::int64_t rows, float* mean, float* std_dev,
                    float* log_weight, cudaStream_t stream);

// log_density[i] = log p(y[i]) under row i's mixture (logsumexp over components, max-shifted;
// -inf, never NaN, when every term underflows).   y, log_density [rows]
void mixture_log_density(const float* r, const MixtureBiases& biases, const float* y, std::int64_t rows,
                         float* log_density, cudaStream_t stream);
// The same for decode step t read from device memory: y and log_density are step-major
// [steps, rows] arrays and row i of step t uses y[t * rows + i], writes log_density[t * rows + i].
void mixture_log_density_step(const float* r, const MixtureBiases& biases, const float* y_steps, const int* step,
                              std::int64_t rows, float* log_density_steps, cudaStream_t stream);

// Sampling counters of the random-stream contract (include/artabpfn/random_stream.hpp):
// row i draws random_stream::draw_for(seed, task_id[i], sample[i], step).
struct SampleCounters {
  std::uint64_t seed;
  const std::uint32_t* task_id;  // [rows]
  const std::uint32_t* sample;   // [rows]
  std::uint32_t step;            // the target index t of this launch
  // When set, the step t is read from this device int instead (decode steps replayed as one CUDA
  // graph), and y (and component) point at step-major [steps, rows] arrays: row i of step t is
  // written at t * rows + i.
  const int* device_step = nullptr;
};

// y[i] = mean_k + std_k * (float)normal with k the contract's component pick (cumulative float32
// sum of exp(log_weight) in order k = 0..K-1, compared with the double uniform).
//   y [rows]; component [rows] int32 or nullptr (the chosen k)
void mixture_sample(const float* r, const MixtureBiases& biases, const SampleCounters& counters,
                    std::int64_t rows, float* y, std::int32_t* component, cudaStream_t stream);

}  // namespace artabpfn::kernels
