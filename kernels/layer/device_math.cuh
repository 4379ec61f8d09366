#pragma once
// Device helpers shared by the layer kernels: the exact GELU, the mixture components' formulas,
// and grid sizing (x dimension only, 64-bit rows).
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

// softplus(u) = u for u > 20, else log1p(exp(u)) (SPEC.md, "Head").
__device__ __forceinline__ float softplus(float u) { return u > 20.0f ? u : log1pf(expf(u)); }

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
