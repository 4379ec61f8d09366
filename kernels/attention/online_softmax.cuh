#pragma once
// The float32 attention's online softmax, its one definition: a row's state, the score of a key,
// the per-key update (running max, rescale, running sum, output update), the store and merge of
// the warps' states of a row, and the final normalisation and LSE. Every float32 attention path
// uses it: the row-tiled kernels (row_tile_attention.cu: shared-context, buffer and fused) and the
// cluster decode step's attention (kernels/decode/cluster_layers.cu), which must round exactly as
// they do. (The mixed-precision path's mixed::attention computes in double, a block of 32 keys at
// a time: kernels/mixed/attention.cu has its own update.)
#include <cuda_runtime.h>

#include <cmath>

namespace artabpfn::kernels::detail {

// Lazy rescaling: the reference point m of a row's state moves only when a score exceeds it by
// more than this (natural log units), so p = exp(s - m) <= e^8 ~ 3e3: no overflow, and the warp
// rarely takes the rescaling branch. (The state (m, l, o) stands for sum exp(s - m) for any m.)
constexpr float kRescaleThreshold = 8.f;

__device__ __forceinline__ void fma4(float4& acc, float p, const float4& v) {
  acc.x = fmaf(p, v.x, acc.x);
  acc.y = fmaf(p, v.y, acc.y);
  acc.z = fmaf(p, v.z, acc.z);
  acc.w = fmaf(p, v.w, acc.w);
}

// One query row's state for one warp's share of its keys, as the kGroup lanes that hold the row
// keep it: each lane its kChunks float4 chunks of q and of the unnormalised output o (chunk
// lane_in_row + kGroup c), and the row's running max m and sum l.
template <int kChunks>
struct RowState {
  float4 q[kChunks];
  float4 o[kChunks];
  float m, l;
};

// q.k for a row held by kGroup adjacent lanes, each with kChunks float4 chunks of q (chunk
// lane_in_row + kGroup c; chunks at or past chunks_used count 0): an FMA chain of 4 per chunk, a
// pairwise tree over the lane's chunks and a butterfly over the row's lanes (every lane ends with
// the same bits), times scale. The tree keeps the rounding error of large scores (|s| ~ 1e3) at the
// level of a blocked float32 dot. key: the key's Dh floats, 16-byte aligned.
template <int kChunks, int kGroup>
__device__ __forceinline__ float row_score(const float4 (&q)[kChunks], const float* key, int lane_in_row,
                                           int chunks_used, float scale) {
  float part[kChunks];
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
    const int chunk = lane_in_row + kGroup * c;
    part[c] = 0.f;
    if (chunk < chunks_used) {
      const float4 kv = *reinterpret_cast<const float4*>(key + 4 * chunk);
      float t = q[c].x * kv.x;
      t = fmaf(q[c].y, kv.y, t);
      t = fmaf(q[c].z, kv.z, t);
      part[c] = fmaf(q[c].w, kv.w, t);
    }
  }
#pragma unroll
  for (int width = 1; width < kChunks; width *= 2)
#pragma unroll
    for (int c = 0; c + width < kChunks; c += 2 * width) part[c] += part[c + width];
  float acc = part[0];
#pragma unroll
  for (int off = kGroup / 2; off > 0; off /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, off);
  return acc * scale;
}

// A value taken as it is: the default of the update's hooks (hooks other than this one: the
// mutation tests' faults, kernels/fault_hooks.cuh).
struct SameValue {
  __device__ constexpr float operator()(float x) const { return x; }
};

// One key's online-softmax update of a row's state (m, l, o) for score s: if s > m + 8 the state is
// rescaled by exp(m - s) (o by output_factor(exp(m - s))), m = s and p = 1, else p = exp(s - m);
// then l += p. Returns p, which the caller adds as p v to o.
template <int kChunks, class OutputFactor = SameValue>
__device__ __forceinline__ float online_update(float& m, float& l, float4 (&o)[kChunks], float s,
                                               OutputFactor output_factor = {}) {
  float p;
  if (s > m + kRescaleThreshold) {  // rare after the first key: little divergence
    const float alpha = expf(m - s);  // 0 for the first key (m = -inf)
    l *= alpha;
    const float o_alpha = output_factor(alpha);
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
      o[c].x *= o_alpha;
      o[c].y *= o_alpha;
      o[c].z *= o_alpha;
      o[c].w *= o_alpha;
    }
    m = s;
    p = 1.f;
  } else {
    p = expf(s - m);
  }
  l += p;
  return p;
}

// One key's whole update of a row's state for its score s: online_update, then o += w v on the
// lane's chunks in use (chunk lane_in_row + kGroup c < chunks_used), w = weight(p) and v = value(c),
// the float4 chunk c of the key's value that the lane holds.
template <int kChunks, int kGroup, class Value, class Weight = SameValue, class OutputFactor = SameValue>
__device__ __forceinline__ void add_key(RowState<kChunks>& st, float s, int lane_in_row, int chunks_used, Value value,
                                        Weight weight = {}, OutputFactor output_factor = {}) {
  const float p = weight(online_update(st.m, st.l, st.o, s, output_factor));
#pragma unroll
  for (int c = 0; c < kChunks; ++c)
    if (lane_in_row + kGroup * c < chunks_used) fma4(st.o[c], p, value(c));
}

// Stores one warp's state of a row for merge_warp_states: the row's lanes write o's float4 chunks
// (chunk lane_in_row + kGroup c, those below chunks_used) to part_o[(warp rows + row) o_stride], its
// first lane m and l to part_m and part_l [warp rows + row].
template <int kChunks, int kGroup>
__device__ __forceinline__ void store_warp_state(float* part_m, float* part_l, float* part_o, int rows, int row,
                                                 int warp, int o_stride, int lane_in_row, int chunks_used,
                                                 const float4 (&o)[kChunks], float m, float l) {
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
    const int chunk = lane_in_row + kGroup * c;
    if (chunk < chunks_used) *reinterpret_cast<float4*>(part_o + (warp * rows + row) * o_stride + 4 * chunk) = o[c];
  }
  if (lane_in_row == 0) {
    part_m[warp * rows + row] = m;
    part_l[warp * rows + row] = l;
  }
}

// The merge of kWarps warps' states of one row (each warp's keys a disjoint part of the row's), in
// warp order: m = the largest warp max (-inf: no warp saw a key); for each warp w that saw one,
// f = exp(m_w - m), l += f l_w and acc += f o_w on the float4 chunk `chunk` of o. part_m, part_l:
// [warp][rows]; part_o: [warp][rows][o_stride]. Returns m; the row's output is acc / l if m > -inf.
template <int kWarps>
__device__ __forceinline__ float merge_warp_states(const float* part_m, const float* part_l, const float* part_o,
                                                   int rows, int row, int o_stride, int chunk, float& l, float4& acc) {
  float m = -INFINITY;
#pragma unroll
  for (int w = 0; w < kWarps; ++w) m = fmaxf(m, part_m[w * rows + row]);
  acc = make_float4(0.f, 0.f, 0.f, 0.f);
  l = 0.f;
  if (m != -INFINITY) {
#pragma unroll
    for (int w = 0; w < kWarps; ++w) {
      const float mw = part_m[w * rows + row];
      if (mw == -INFINITY) continue;  // a warp that saw no key contributes nothing (not 0 * x)
      const float f = expf(mw - m);
      l = fmaf(f, part_l[w * rows + row], l);
      fma4(acc, f, *reinterpret_cast<const float4*>(part_o + (w * rows + row) * o_stride + 4 * chunk));
    }
  }
  return m;
}

// The final normalisation of a row's merged state (m, l, acc of merge_warp_states): an output
// element acc / l, and the natural-log LSE m + log l; (0, -inf) for a row that saw no key.
__device__ __forceinline__ float normalised(float acc, float m, float l) { return m == -INFINITY ? 0.f : acc / l; }
__device__ __forceinline__ float row_lse(float m, float l) { return m == -INFINITY ? -INFINITY : m + logf(l); }

}  // namespace artabpfn::kernels::detail
