#pragma once
// Component c of one embedded row (SPEC.md, "Rows"), shared by the row kernels (rows.cu) and the
// resident decode step (kernels/decode/), so both embed a row with the same float32 operations in
// the same order. y null: no y term; p < 0: no AR token.
#include <cuda_runtime.h>

#include "kernels/rows.hpp"

namespace artabpfn::kernels::detail {

__device__ __forceinline__ float embed_value(const EmbeddingWeights& w, const float* x, int features, const float* y,
                                             int marker, int p, int c) {
  float sum = 0.0f;
  for (int f = 0; f < features; ++f) sum += w.x_weight[c] * x[f] + w.x_bias[c];
  float value = sum / static_cast<float>(features);
  if (y) value += w.y_weight[c] * *y + w.y_bias[c];
  value += w.marker[marker * w.d_model + c];
  if (p >= 0) value += w.ar_tokens[(p % w.buffer_size) * w.d_model + c];
  return value;
}

}  // namespace artabpfn::kernels::detail
