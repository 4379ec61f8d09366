#pragma once
// The row-wise kernels of a layer (docs/model.md, "One layer"): linear maps, LayerNorm and exact GELU
// (the mixture head's are in kernels/head.hpp). float32 in and out, float32 arithmetic (no TF32,
// no fast math), except for the linear maps' sums of float32 FMA chains (added in double, below)
// and tensor_core_linear, whose products are TF32 on the tensor cores.
//
// Every function takes device pointers and a stream, launches asynchronously with programmatic
// dependent launch (kernels/launch.cuh), and checks the launch (a bad configuration throws
// CudaError at once). rows == 0 launches nothing. The linear maps may start copying their weight
// matrix before they wait for the previous kernel of the stream: that kernel must not write it.
// Matrices are row-major and contiguous; "rows" are samples/tokens.
//
// Batch invariance: every output element is computed in a fixed order that depends only on the
// feature widths (in_features, D, K), never on the number of rows or on the row's position in the
// launch (by one thread, or for tensor_core_linear by MMAs whose row i depends on row i of x
// alone), so a row's result is bitwise the same whatever else is in the batch.
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

// ---- linear on the tensor cores (kernels/layer/tensor_core_linear.cu) -------------------------
// The map of linear() above, its products on the tensor cores (TF32 operands, float32
// accumulators; docs/precisions.md, "The engine's precisions on the GPU"):
//   kTf32    operands rounded to TF32 (to nearest, ties away from zero), one MMA a k-step of 8,
//            accumulated across k in the MMA: about 1e-3 relative, for speed.
//   kTf32x3  each operand split into hi = rna(v) and lo = rna(v - hi); a k-step of 8 is three MMAs
//            from zero (lo hi, hi lo, hi hi), the steps of each block of 32 k added in float32,
//            the block sums in double: about as accurate as linear() (float32).
// Sizes, pointers and batch invariance as linear(); no alignment needed. sm_80 and later.
enum class TensorCoreArithmetic { kTf32, kTf32x3 };
void tensor_core_linear(const float* x, const float* weight, const float* bias, const float* residual, float* y,
                        std::int64_t rows, int in_features, int out_features, Epilogue act,
                        TensorCoreArithmetic arithmetic, cudaStream_t stream);

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

}  // namespace artabpfn::kernels
