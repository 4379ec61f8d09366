#pragma once
// Device helpers shared by the layer kernels (and the mixed-precision path's, kernels/mixed/): the
// exact GELU, warp sums, the LayerNorm input, the mixture components' formulas, and grid sizing
// (x dimension only, 64-bit rows).
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace artabpfn::kernels::detail {

// GELU(u) = u/2 (1 + erf(u / sqrt 2)). For u < 0 it is evaluated as u/2 erfc(-u / sqrt 2), the
// same value without the cancellation of 1 + erf(.) (at u = -5, 1 + erf keeps no correct digit in
// float; erfc keeps its relative accuracy). For u >= 0, 1 + erf does not cancel.
__device__ __forceinline__ float gelu_exact(float u) {
  const float z = u * 0.707106781186547524f;
  return 0.5f * u * (u < 0.0f ? erfcf(-z) : 1.0f + erff(z));
}
__device__ __forceinline__ double gelu_exact(double u) {
  const double z = u * 0.70710678118654752440;
  return 0.5 * u * (u < 0.0 ? erfc(-z) : 1.0 + erf(z));
}

// softplus(u) = u for u > 20, else log1p(exp(u)) (docs/model.md, "The mixture head").
__device__ __forceinline__ float softplus(float u) { return u > 20.0f ? u : log1pf(expf(u)); }

// Sum over the 32 lanes of a warp, butterfly over lane offsets 16, 8, 4, 2, 1 (a fixed order;
// every lane ends with the same bits). T: float or double.
template <class T>
__device__ __forceinline__ T warp_sum(T s) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) s += __shfl_xor_sync(0xffffffffu, s, offset);
  return s;
}

// A LayerNorm's input element: x + residual, or x where residual is null.
template <class T>
__device__ __forceinline__ T load_sum(const T* x, const T* residual, std::int64_t at) {
  return residual != nullptr ? x[at] + residual[at] : x[at];
}

// LayerNorm statistics of one row held in registers by a warp (lane l owns j = l + 32 i, width
// values): the mean as the unrounded pair m0 + delta (mean, then its correction) and
// denom = sqrt(biased variance of the centred values + 1e-5). Shared by layer_norm.cu and
// linear_layer_norm.cu, so both normalise a row bitwise the same way (with layer_norm_value).
struct RowStats {
  float m0, delta, denom;
};

template <int kPerLane>
__device__ __forceinline__ RowStats row_stats(const float (&v)[kPerLane], int lane, int width) {
  const float n = static_cast<float>(width);
  float s = 0.0f;
#pragma unroll
  for (int i = 0; i < kPerLane; ++i)
    if (lane + 32 * i < width) s += v[i];
  const float m0 = warp_sum(s) / n;
  float c = 0.0f;
#pragma unroll
  for (int i = 0; i < kPerLane; ++i)
    if (lane + 32 * i < width) c += v[i] - m0;
  const float delta = warp_sum(c) / n;
  float q = 0.0f;
#pragma unroll
  for (int i = 0; i < kPerLane; ++i)
    if (lane + 32 * i < width) {
      const float d = (v[i] - m0) - delta;
      q = fmaf(d, d, q);
    }
  return {m0, delta, sqrtf(warp_sum(q) / n + 1e-5f)};
}

// The normalised component: ((v - m0) - delta) / denom * weight + bias, with the product and the
// bias in one explicit fma, so every kernel that normalises rounds it the same way.
__device__ __forceinline__ float layer_norm_value(float v, const RowStats& s, float weight, float bias) {
  return fmaf(((v - s.m0) - s.delta) / s.denom, weight, bias);
}

// Number of blocks of `per_block` rows covering `rows`; the x dimension holds up to 2^31 - 1.
inline unsigned int blocks_for(std::int64_t rows, std::int64_t per_block, const char* what) {
  const std::int64_t blocks = (rows + per_block - 1) / per_block;
  if (blocks > 2147483647LL) throw std::invalid_argument(std::string(what) + ": too many rows for one launch");
  return static_cast<unsigned int>(blocks);
}

inline void require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}

}  // namespace artabpfn::kernels::detail
