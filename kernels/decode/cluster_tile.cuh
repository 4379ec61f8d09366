#pragma once
// The cluster step's shape and staging (kernels/decode/cluster_layers.cu): the model shape it is
// compiled for, the two tiles, the shared-memory layout, the launch parameters, the cp.async
// staging of weight slices and context keys, and the cluster barrier the stages meet at.
#include <cooperative_groups.h>
#include <cuda_pipeline.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "kernels/decode.hpp"

namespace artabpfn::kernels::cluster_step {

namespace cg = cooperative_groups;

constexpr int kD = 128, kHeads = 4, kDh = 32, kFF = 256;
constexpr int kCluster = 8;
constexpr int kKeyGroups = 8;  // the attention's key split: row_tile_attention's 8 warps (key j to group j % 8)
constexpr int kCtxKeys = 256;  // context keys staged at once (more: further passes)
constexpr int kSliceD = kD / kCluster, kSliceFF = kFF / kCluster;  // 16, 32 product columns a block
constexpr int kQkv = 3 * kDh;  // the q|k|v columns of one head
// Weight rows are padded by 4 floats: the 16 lanes of a quarter warp read 16 different rows at
// the same k, whose starts are then 4 banks apart. Activation rows are read as broadcasts.
constexpr int kWs = kD + 4, kWsFF = kFF + 4;
constexpr int kPending = 5;  // cp.async groups issued after the one a stage waits for

// Shared memory, in floats: the weight slices and the context, the same in both tiles.
constexpr int kOffFeature = 0;
constexpr int kOffQkvW = kOffFeature + kSliceD * kWs;
constexpr int kOffOut = kOffQkvW + kQkv * kWs;
constexpr int kOffFf0 = kOffOut + kSliceD * kWs;
constexpr int kOffFf2 = kOffFf0 + kSliceFF * kWs;
constexpr int kOffCtxK = kOffFf2 + kSliceD * kWsFF;
constexpr int kOffCtxV = kOffCtxK + kCtxKeys * kDh;
constexpr int kOffRows = kOffCtxV + kCtxKeys * kDh;

// A cluster's tile: up to kSamples samples (16 or 18), with every stage's thread mapping dividing
// its rows: 16 kSamples threads (rows / 2 of them per 16 product columns, 4 rows a warp in the
// LayerNorms). A block's attention rows are one head of half the samples: warps 0-7 take rows
// 0-15 (2 lanes a row, key group = warp), and at 18 samples warp 8 takes rows 16 and 17 (lane
// 4 kg + 2 r + g: key group kg), so each row is walked and merged as in row_tile_attention.
// Its rows' shared memory: the 16-sample tile keeps three row arrays (x, LN1's h, LN2's h2) and
// gathers ff.2's input rows [32][256] into the first two; the 18-sample one has room for two: x
// and h alternate (LN2 writes over the gathered attention rows, LN3 over h), and ff.2's input is
// gathered and consumed in two halves of k.
template <int kSamples>
struct Tile {
  static_assert(kSamples == 16 || kSamples == 18, "the two instances");
  static constexpr int rows = 2 * kSamples, half = kSamples / 2, attn_rows = 2 * half;
  static constexpr int threads = 16 * kSamples, warps = threads / 32;
  static constexpr bool alternating = kSamples > 16;  // two row arrays, ff.2's input in halves
  static constexpr int ff2_passes = alternating ? 2 : 1;
  static constexpr int off_x = kOffRows;  // the row arrays, rows x kD each
  static constexpr int off_p = off_x + (alternating ? 2 : 3) * rows * kD;  // two [rows][16] product slices, alternating
  static constexpr int off_f = off_p + 2 * rows * kSliceD;
  static constexpr int off_a = off_f + rows * kSliceFF;
  static constexpr int off_qkv = off_a + attn_rows * kDh;
  static constexpr int floats = off_qkv + attn_rows * kQkv;
  static constexpr std::size_t bytes = sizeof(float) * floats;
  static_assert(bytes <= 232448, "over the H100's 227 KB of shared memory a block");
  static_assert(kKeyGroups * attn_rows * kDh <= kCtxKeys * kDh && 2 * kKeyGroups * attn_rows <= kCtxKeys * kDh,
                "the merge's warp states fit the context's space");
};
static_assert(Tile<18>::warps == kKeyGroups + 1 && Tile<18>::attn_rows == 18, "warp 8 takes two rows");
static_assert(kClusterDecodeMaxSamples == 18 && kClusterDecodeHalvesOf8 == 16, "the two instances");
static_assert(Tile<16>::rows * kD * 2 >= Tile<16>::rows * kFF, "ff.2's input rows fit in two row arrays");

struct Params {
  ClusterDecodeArgs a;
  int samples_per_cluster;
  float scale;  // 1 / sqrt(Dh), as row_tile_attention
};

// Copies `rows` rows of kWidth floats from row `first` of src (kWidth apart) to shared (dst_stride
// apart) with 16-byte cp.async; the caller commits. Not whole_k.cuh's stage_rows_async: with its
// bound check and 64-bit row index (and a destination stride argument) a wave took 450.0 us instead
// of 445.2 at B 240 (H100, the same call).
template <int kWidth, int kThreads>
__device__ __forceinline__ void copy_rows(float* dst, int dst_stride, const float* src, int first, int rows) {
  constexpr int chunks = kWidth / 4;
  src += static_cast<std::int64_t>(first) * kWidth;
  for (int idx = static_cast<int>(threadIdx.x); idx < rows * chunks; idx += kThreads) {
    const int r = idx / chunks, c = idx - r * chunks;
    __pipeline_memcpy_async(dst + r * dst_stride + 4 * c, src + r * kWidth + 4 * c, 16);
  }
}

// The layer's weight slices of block `rank` (one cp.async group each, in consumption order with
// the context between q|k|v and out_proj; see stage_context).
template <int kThreads>
struct Slots {
  float* smem;
  int rank;
  __device__ void feature(const ClusterDecodeLayer& L) const {
    copy_rows<kD, kThreads>(smem + kOffFeature, kWs, L.feature, kSliceD * rank, kSliceD);
  }
  __device__ void qkv(const ClusterDecodeLayer& L) const {  // q, k, v rows of head rank % 4
    const int h = rank % kHeads;
    for (int part = 0; part < 3; ++part)
      copy_rows<kD, kThreads>(smem + kOffQkvW + part * kDh * kWs, kWs, L.qkv, part * kD + h * kDh, kDh);
  }
  __device__ void out(const ClusterDecodeLayer& L) const {
    copy_rows<kD, kThreads>(smem + kOffOut, kWs, L.out, kSliceD * rank, kSliceD);
  }
  __device__ void ff0(const ClusterDecodeLayer& L) const {
    copy_rows<kD, kThreads>(smem + kOffFf0, kWs, L.ff_in, kSliceFF * rank, kSliceFF);
  }
  __device__ void ff2(const ClusterDecodeLayer& L) const {
    copy_rows<kFF, kThreads>(smem + kOffFf2, kWsFF, L.ff_out, kSliceD * rank, kSliceD);
  }
};

// Row `row` of head h of sample b in a layer's buffer K or V cache ([B, H, capacity, Dh]).
__device__ __forceinline__ float* buffer_row(float* cache, std::int64_t b, int h, int capacity, int row) {
  return cache + ((b * kHeads + h) * capacity + row) * kDh;
}

// The block's attention context: keys [first, first + min(256, nc - first)) of head h of its task.
struct Context {
  const float* k = nullptr;  // head h's [nc, Dh] rows of the layer
  const float* v = nullptr;
  int nc = 0;
};

__device__ __forceinline__ Context block_context(const Params& p, const ClusterDecodeLayer& L, std::int64_t sample,
                                                 bool has_rows, int h) {
  Context c;
  if (!has_rows) return c;
  const std::int32_t task = p.a.task_of_sample[sample];
  c.nc = p.a.context_len[task];
  const std::int64_t base = p.a.context_offset[task] + static_cast<std::int64_t>(h) * c.nc * kDh;
  c.k = L.context_k + base;
  c.v = L.context_v + base;
  return c;
}

template <int kThreads>
__device__ __forceinline__ void stage_context(float* smem, const Context& c, int first) {
  const int keys = min(kCtxKeys, c.nc - first);
  if (keys <= 0) return;
  copy_rows<kDh, kThreads>(smem + kOffCtxK, kDh, c.k, first, keys);
  copy_rows<kDh, kThreads>(smem + kOffCtxV, kDh, c.v, first, keys);
}

// A cluster barrier with `work` between this block's arrival and its wait: work that needs no other
// block's data (issuing the next weight copies, prefetches) overlaps the wait for the slowest block.
// The block's threads first finish what they read before (the refills overwrite it).
template <class Work>
__device__ __forceinline__ void cluster_sync_around(const cg::cluster_group& cluster, Work work) {
  __syncthreads();
  cluster.barrier_arrive();
  work();
  cluster.barrier_wait();
}

// Waits for the cp.async group a stage consumes (kPending later ones may stay in flight).
__device__ __forceinline__ void wait_staged() {
  __pipeline_wait_prior(kPending);
  __syncthreads();
}

// dst[idx] = load(idx) for idx < kCount float4s, all of a thread's loads issued before its stores.
template <int kThreads, int kCount, class Load>
__device__ __forceinline__ void gather_float4(float* dst, Load load) {
  static_assert(kCount % kThreads == 0, "whole passes");
  constexpr int kPerThread = kCount / kThreads;
  float4 v[kPerThread];
#pragma unroll
  for (int n = 0; n < kPerThread; ++n) v[n] = load(static_cast<int>(threadIdx.x) + kThreads * n);
#pragma unroll
  for (int n = 0; n < kPerThread; ++n) reinterpret_cast<float4*>(dst)[threadIdx.x + kThreads * n] = v[n];
}

}  // namespace artabpfn::kernels::cluster_step
