#pragma once
// The cluster step's key walk (kernels/decode/cluster_layers.cu): row_tile_attention's fused
// instance for Dh 32 (2 lanes a row, 8 key groups each taking keys j = group (mod 8) in increasing
// order), with online_softmax.cuh's score and update; only how the keys and values are loaded
// differs.
#include <cuda_runtime.h>

#include "kernels/attention/online_softmax.cuh"
#include "kernels/decode/cluster_tile.cuh"

namespace artabpfn::kernels::cluster_step {

// One row's online-softmax state for one key group's keys: 2 lanes a row, 4 float4 chunks a lane.
using RowState = detail::RowState<4>;

__device__ __forceinline__ float score(const RowState& st, const float* key, int g, float scale) {
  return detail::row_score<4, 2>(st.q, key, g, kDh / 4, scale);
}

// Keys below `limit` of key group kg: j = kg (mod 8).
__device__ __forceinline__ int group_key_count(int limit, int kg) {
  return limit > kg ? (limit - kg + kKeyGroups - 1) / kKeyGroups : 0;
}

// Keys j = kg + 8 u (u < count) at key(j), value(j), 4 at a time: the 4 keys scored and their
// values loaded, then applied in order to the rows that take them (active). The values are loaded
// before the updates so that their latency overlaps the scores' instead of following each update's
// branch (H100, B 240: 437 us a step, 445 without). steps: the warp's batches, uniform over the warp
// (the score's shuffle needs every lane; kMixedGroups: the warp's lanes have different groups, as
// warp 8's): a lane past its count reads a valid row (its last key, or key 0) and applies nothing.
template <bool kMixedGroups, class Key, class Value>
__device__ __forceinline__ void walk_keys(RowState& st, int steps, int count, int kg, bool active, int g, float scale,
                                          Key key, Value value) {
  for (int u0 = 0; u0 < steps; u0 += 4) {
    float s[4];
    float4 v[4][4];
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const int u = min(u0 + k, count - 1);
      const int j = !kMixedGroups || count > 0 ? kg + kKeyGroups * u : 0;
      s[k] = score(st, key(j), g, scale);
#pragma unroll
      for (int c = 0; c < 4; ++c) v[k][c] = *reinterpret_cast<const float4*>(value(j) + 4 * (g + 2 * c));
    }
#pragma unroll
    for (int k = 0; k < 4; ++k)
      if (active && u0 + k < count) detail::add_key<4, 2>(st, s[k], g, kDh / 4, [&](int c) { return v[k][c]; });
  }
}

}  // namespace artabpfn::kernels::cluster_step
