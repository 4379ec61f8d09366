#pragma once
// The cluster step's products and LayerNorms (kernels/decode/cluster_layers.cu), each value computed
// as the layered step's kernels compute it: linear()'s blocked reduction (float32 FMA chains over
// 32 k, added in double in block order, rounded once) and linear_layer_norm's LayerNorm
// (detail::row_stats / layer_norm_value with lane j = lane + 32 i).
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include "kernels/decode/cluster_tile.cuh"
#include "kernels/layer/device_math.cuh"
#include "kernels/layer/whole_k.cuh"

namespace artabpfn::kernels::cluster_step {

// The float chains (detail::chain_fma4) of k-blocks kFirst .. kFirst + kBlocks - 1 of thread
// (ty = tid / kCols, tx = tid % kCols): rows x_row0 + ty + (kThreads / kCols) i (i < kR) of x
// (stride x_stride, its columns the blocks' k) times weight rows tx + kCols j (j < kO) of w (stride
// w_stride), into part[kFirst + c]. The chains of all blocks run interleaved (kR kO kBlocks
// independent chains a thread).
template <int kThreads, int kR, int kO, int kCols, int kFirst, int kBlocks, int kAll>
__device__ __forceinline__ void chains(const float* x, int x_stride, int x_row0, const float* w, int w_stride,
                                       float (&part)[kAll][kR][kO]) {
  constexpr int kRowStep = kThreads / kCols;
  const int ty = static_cast<int>(threadIdx.x) / kCols, tx = static_cast<int>(threadIdx.x) % kCols;
#pragma unroll
  for (int c = 0; c < kBlocks; ++c)
#pragma unroll
    for (int i = 0; i < kR; ++i)
#pragma unroll
      for (int j = 0; j < kO; ++j) part[kFirst + c][i][j] = 0.0f;
#pragma unroll 2
  for (int k = 0; k < detail::kChainK; k += 4) {
#pragma unroll
    for (int c = 0; c < kBlocks; ++c) {
      float4 a[kR], b[kO];
#pragma unroll
      for (int i = 0; i < kR; ++i)
        a[i] = *reinterpret_cast<const float4*>(x + (x_row0 + ty + kRowStep * i) * x_stride + detail::kChainK * c + k);
#pragma unroll
      for (int j = 0; j < kO; ++j)
        b[j] = *reinterpret_cast<const float4*>(w + (tx + kCols * j) * w_stride + detail::kChainK * c + k);
#pragma unroll
      for (int i = 0; i < kR; ++i)
#pragma unroll
        for (int j = 0; j < kO; ++j) detail::chain_fma4(part[kFirst + c][i][j], a[i], b[j]);
    }
  }
}

// Each output's block sums added in double in block order, rounded once (linear()'s reduction).
template <int kR, int kO, int kAll>
__device__ __forceinline__ void add_chains(const float (&part)[kAll][kR][kO], float (&sums)[kR][kO]) {
#pragma unroll
  for (int i = 0; i < kR; ++i)
#pragma unroll
    for (int j = 0; j < kO; ++j) {
      double acc = 0.0;
#pragma unroll
      for (int c = 0; c < kAll; ++c) acc += static_cast<double>(part[c][i][j]);
      sums[i][j] = static_cast<float>(acc);
    }
}

// The blocked sums over kK of thread (ty, tx) (chains above): x's rows of kK floats, w's of kK + 4.
template <int kThreads, int kR, int kO, int kK, int kCols = 16>
__device__ __forceinline__ void blocked_sums(const float* x, int x_row0, const float* w, float (&sums)[kR][kO]) {
  constexpr int kBlocks = kK / detail::kChainK;
  float part[kBlocks][kR][kO];
  chains<kThreads, kR, kO, kCols, 0, kBlocks>(x, kK, x_row0, w, kK + 4, part);
  add_chains(part, sums);
}

// A D-wide product's slice for all rows from its sums (thread (ty, tx): rows ty and ty + rows / 2,
// column tx): slice[r][c] = sums (+ bias[16 rank + c]).
template <class T>
__device__ __forceinline__ void store_slice(const float (&sums)[2][1], const float* bias, int rank, float* slice) {
  const int ty = static_cast<int>(threadIdx.x) / 16, tx = static_cast<int>(threadIdx.x) % 16;
#pragma unroll
  for (int i = 0; i < 2; ++i)
    slice[(ty + T::rows / 2 * i) * kSliceD + tx] =
        bias != nullptr ? sums[i][0] + bias[kSliceD * rank + tx] : sums[i][0];
}

template <class T, int kK>
__device__ __forceinline__ void d_slice(const float* x, const float* w, const float* bias, int rank, float* slice) {
  float sums[2][1];
  blocked_sums<T::threads, 2, 1, kK>(x, 0, w, sums);
  store_slice<T>(sums, bias, rank, slice);
}

// out[r] = LN(residual[r] + product[r]) for all rows, the product's columns gathered from the
// cluster's slices (columns [16 b, +16) in block b's `slice`): warp w normalises rows w + warps n
// (n < 4) together (their remote loads and reductions in flight at once), lane j = lane + 32 i.
template <class T>
__device__ __forceinline__ void layer_norm_rows(const cg::cluster_group& cluster, const float* residual, float* slice,
                                                const float* ln_weight, const float* ln_bias, float* out) {
  constexpr int kPerLane = kD / 32, kRowsPerWarp = T::rows / T::warps;
  static_assert(kRowsPerWarp * T::warps == T::rows, "whole rows a warp");
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  float w[kPerLane], b[kPerLane];  // issued first: their latency overlaps the remote loads
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    w[i] = ln_weight[lane + 32 * i];
    b[i] = ln_bias[lane + 32 * i];
  }
  float v[kRowsPerWarp][kPerLane];
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const int j = lane + 32 * i;
    const float* owner = cluster.map_shared_rank(slice, j / kSliceD);
#pragma unroll
    for (int n = 0; n < kRowsPerWarp; ++n) {
      const int r = warp + T::warps * n;
      v[n][i] = residual[r * kD + j] + owner[r * kSliceD + j % kSliceD];
    }
  }
  detail::RowStats s[kRowsPerWarp];
#pragma unroll
  for (int n = 0; n < kRowsPerWarp; ++n) s[n] = detail::row_stats<kPerLane>(v[n], lane, kD);
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const int j = lane + 32 * i;
#pragma unroll
    for (int n = 0; n < kRowsPerWarp; ++n)
      out[(warp + T::warps * n) * kD + j] = detail::layer_norm_value(v[n][i], s[n], w[i], b[i]);
  }
}

}  // namespace artabpfn::kernels::cluster_step
