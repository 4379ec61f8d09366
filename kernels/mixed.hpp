#pragma once
// The kernels of the mixed-precision density path (engine Precision::kMixed): the weights, q, k,
// v and the K/V caches stay float32 as in the float32 path; the residual stream, the LayerNorm
// outputs, the feed-forward and head hidden rows live in double, and every sum, LayerNorm, GELU
// and softmax is computed in double. Why this split: docs/accuracy.md, "Mixed precision" (the
// float32 path's error is the activations rounded to float32 between operations, and float32
// attention arithmetic;
// rounding q, k, v, the attention output and the head's mixture rows to float32 costs little).
//
// Same conventions as kernels/layer.hpp: device pointers, asynchronous launches with programmatic
// dependent launch, rows == 0 launches nothing, and each output element computed by one thread
// (or one warp) in an order that depends only on the widths, never on the batch: bitwise batch
// invariant.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/attention.hpp"
#include "kernels/layer.hpp"

namespace artabpfn::kernels::mixed {

// y[r, o] = act(sum_k x[r, k] * weight[o, k] + bias[o]) + residual[r, o], all in double: each
// product of a float32 weight and a double (or float32) input, summed in ascending k from 0;
// + bias, then the exact GELU when asked (double erf/erfc), then + residual; rounded once when
// TOut is float. TIn, TOut: float or double.
//   x [rows, in_features]; weight [out_features, in_features]; bias [out_features] or nullptr;
//   residual [rows, out_features] or nullptr, may equal y (TOut double), never x; y must not
//   overlap x.
template <class TIn, class TOut>
void linear(const TIn* x, const float* weight, const float* bias, const double* residual, TOut* y, std::int64_t rows,
            int in_features, int out_features, Epilogue act, cudaStream_t stream);

// y[r, :] = LN(x[r, :] + residual[r, :]) * weight + bias over `width` components in double:
// mean, then the biased variance of the centred values, eps 1e-5. residual may be nullptr; y may
// equal x or residual.
void layer_norm(const double* x, const double* residual, const float* weight, const float* bias, double* y,
                std::int64_t rows, int width, cudaStream_t stream);

// fused_attention's job (kernels/attention.hpp: layouts, visibility, output and LSE) over the
// same float32 q, context and buffer K/V, with every score, exponential, sum and output
// accumulated in double and rounded once to float32. One warp per query row and head; keys in
// order, context then buffer, one online softmax. head_dim <= 256. context.k and context.v both
// null: no context keys, and the context index arrays are not read.
void attention(const QueryBlock& q, const ContextKV& context, const BufferKV& buffer, const AttentionOut& out,
               cudaStream_t stream);

}  // namespace artabpfn::kernels::mixed
