#pragma once
// The row-wise kernels of a layer and of the mixture head (docs/model.md, "One layer" and "The
// mixture head"):
// linear maps, LayerNorm, exact GELU, and the K-component Gaussian mixture (parameters, log
// density, sampling). float32 in and out, float32 arithmetic (no TF32, no fast math), except for
// the linear maps' sums of float32 FMA chains (added in double, below) and in the mixture head:
// its per-component scalar work (softplus, log-softmax, log density: K exp/log
// per row) runs in double from the float inputs and is rounded once to float, and the sampler's
// uniform and normal are double as the random-stream contract says.
//
// Every function takes device pointers and a stream, launches asynchronously with programmatic
// dependent launch (kernels/launch.cuh), and checks the launch (a bad configuration throws
// CudaError at once). rows == 0 launches nothing. The linear maps start copying their weight
// matrix before they wait for the previous kernel of the stream: that kernel must not write it. Matrices are row-major and contiguous; "rows" are samples/tokens.
//
// Batch invariance: every output element is computed by one thread in a fixed order that depends
// only on the feature widths (in_features, D, K), never on the number of rows or on the row's
// position in the launch, so a row's result is bitwise the same whatever else is in the batch.
// Grids use the x dimension only (up to 2^31 - 1 blocks) with 64-bit row indices.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/rows.hpp"

namespace artabpfn::kernels {

// ---- linear (kernels/layer/linear.cu) -------------------------------------------------------
enum class Epilogue { kNone, kGelu };

// y[r, o] = act(sum_k x[r, k] * weight[o, k] + bias[o]) + residual[r, o]
//   x        [rows, in_features]
//   weight   [out_features, in_features]  (PyTorch Linear layout)
//   bias     [out_features] or nullptr (no bias)
//   residual [rows, out_features] or nullptr; may equal y (in-place accumulate), never x
//   y        [rows, out_features]; must not overlap x
//   act      identity (kNone) or the exact GELU (kGelu), applied before the residual is added
// The dot product is blocked: a float32 fma chain over each block of 32 consecutive k, in
// ascending k from 0, the block sums added in double in block order, rounded once to float.
void linear(const float* x, const float* weight, const float* bias, const float* residual, float* y,
            std::int64_t rows, int in_features, int out_features, Epilogue act, cudaStream_t stream);

// ---- q|k|v with the decode step's K/V append (kernels/layer/linear.cu) ----------------------
// linear(x, weight, nullptr, nullptr, y, rows, in_features, 3 D, kNone) and then
// append_buffer_kv_step(y, rows, append) (kernels/rows.hpp: KVAppend), bitwise the same, in one
// launch up to 2048 rows where the whole-k kernel takes the shape (in_features % 4 == 0 and <= 256,
// 16-byte aligned x and weight). rows must be even. y must not overlap x or the buffers.
void linear_append_kv(const float* x, const float* weight, float* y, std::int64_t rows, int in_features,
                      const KVAppend& append, cudaStream_t stream);

// ---- linear + LayerNorm (kernels/layer/linear_layer_norm.cu) --------------------------------
// y = LN(residual + (x W^T + bias)) * ln_weight + ln_bias over width = out_features components:
// linear(x, weight, bias, nullptr, t) then layer_norm(residual, t, ln_weight, ln_bias, y), bitwise
// the same, in one launch where it can (up to 2048 rows, width <= 256, in_features % 4 == 0 and
// <= 256, 16-byte aligned x and weight, sm_90), else in those two launches.
//   x [rows, in_features]; weight [width, in_features]; bias [width] or nullptr;
//   residual, y [rows, width]: y must not overlap x or residual. Batch invariant.
void linear_layer_norm(const float* x, const float* weight, const float* bias, const float* residual,
                       const float* ln_weight, const float* ln_bias, float* y, std::int64_t rows, int in_features,
                       int width, cudaStream_t stream);

// ---- layer norm (kernels/layer/layer_norm.cu) ---------------------------------------------
// y[r, :] = LN(x[r, :] + residual[r, :]) * weight + bias over the `width` (D) components,
// biased variance, eps 1e-5. residual may be nullptr. y may equal x or residual (in place).
//   x, residual, y [rows, width]; weight, bias [width]
void layer_norm(const float* x, const float* residual, const float* weight, const float* bias, float* y,
                std::int64_t rows, int width, cudaStream_t stream);

// ---- gelu (kernels/layer/gelu.cu) ------------------------------------------------------------
// y[i] = x[i] / 2 * (1 + erf(x[i] / sqrt 2)) for i < count; y may equal x.
void gelu(const float* x, float* y, std::int64_t count, cudaStream_t stream);

// ---- mixture head (kernels/layer/mixture.cu) ------------------------------------------------
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
