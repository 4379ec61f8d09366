// cluster_decode_layers (kernels/decode.hpp): all layers of a decode step in one launch.
//
// Why: the layered step is ~79 dependent launches whose own critical paths (wait for the
// previous kernel, load its rows from memory, compute, store) are the step (bench/engine/NOTES.md,
// "What one dependency costs"). Here a cluster of 8 blocks keeps its samples' rows in shared
// memory for the whole step; a stage hands its result to the next through distributed shared
// memory and a cluster barrier (~0.5 us), and the weights of the next layer stream in while the
// current one computes.
//
// Work split. Cluster q owns samples [q G, q G + G) (G <= 18, cluster_decode_samples_per_cluster),
// i.e. rows 0..2G-1 of its tile (row 2 s + i: sample s, i = 0 the buffer row t-1, 1 the target
// row t); padding rows are zeros and are never stored. The kernel has two instances, for G <= 16
// (a tile of 32 rows, 256 threads) and for G 17 and 18 (36 rows, 288 threads: one wave of 15
// clusters then holds 270 samples, B 256 included; Tile below). Block `rank` of the cluster:
//   products  output columns [16 rank, +16) of the D-wide maps (feature map, out_proj, ff.2) and
//             [32 rank, +32) of ff.0, for all rows, from its own copy of the input rows;
//   q|k|v     head h = rank % 4, for the rows of its half of the samples (rank / 4): the 96
//             columns its attention needs, so they never leave the block; it appends k and v of
//             the buffer rows to the samples' caches (row t-1);
//   attention head h of those rows over the task's context (staged in shared memory) and buffer
//             rows 0..t-1 (read from the caches);
//   LayerNorm every block normalises all rows, gathering the product's columns from the 8
//             blocks' slices (the same values in every block, so no exchange of the result).
// Five cluster barriers a layer: after the feature map, the attention, out_proj, ff.0 and ff.2.
//
// Bitwise the same as the layered step: each value is computed by the same operations in the same
// order as there. Products: linear()'s blocked reduction (float32 FMA chains over 32 k, added in
// double in block order, rounded once), + bias, exact GELU. LayerNorm: linear_layer_norm's
// residual + product and detail::row_stats / layer_norm_value with lane j = lane + 32 i. Attention:
// row_tile_attention's fused instance for Dh 32 (2 lanes a row, 8 key groups (its warps) each
// taking keys j = group (mod 8) in increasing order, context then buffer, the lazy online softmax,
// the states merged in group order; kernels/attention/online_softmax.cuh). The engine properties
// `ClusterStepChangesNoBit`, `ClusterStepFixedCases` and `ClusterStepWithLayeredBesideChangesNoBit`
// hold both instances to that.
//
// Weight and context staging: per layer six cp.async groups (feature map, q|k|v, context, out_proj,
// ff.0, ff.2), each refilled with the next layer's as soon as the current one is consumed (issued
// inside a cluster barrier's wait where one follows), so a stage waits with five groups still in
// flight (an empty group where there is nothing to load keeps that count right). Layer 0's groups
// are issued before the wait for the previous kernel: weights and context caches are complete
// before the step (kernels/launch.cuh).
#include <cooperative_groups.h>
#include <cuda_pipeline.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>

#include "kernels/alignment.hpp"
#include "kernels/attention/online_softmax.cuh"
#include "kernels/cuda_check.hpp"
#include "kernels/decode.hpp"
#include "kernels/device_info.hpp"
#include "kernels/launch.cuh"
#include "kernels/layer/device_math.cuh"
#include "kernels/layer/whole_k.cuh"

namespace artabpfn::kernels {
namespace {

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

// One row's online-softmax state for one key group's keys (row_tile_attention's RowState at Dh 32:
// 2 lanes a row, 4 float4 chunks a lane).
struct RowState {
  float4 q[4], o[4];
  float m, l;
};

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
      if (active && u0 + k < count) {
        const float prob = detail::online_update(st.m, st.l, st.o, s[k]);
#pragma unroll
        for (int c = 0; c < 4; ++c) detail::fma4(st.o[c], prob, v[k][c]);
      }
  }
}

// One launch: clusters of kCluster blocks along x. p lives in the parameter space (__grid_constant__:
// the layers' array is indexed at run time without a local copy).
template <int kSamples>
__global__ void __launch_bounds__(Tile<kSamples>::threads, 1) cluster_layers_kernel(const __grid_constant__ Params p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  using T = Tile<kSamples>;
  constexpr int kThreads = T::threads;
  extern __shared__ __align__(16) float smem[];
  const cg::cluster_group cluster = cg::this_cluster();
  const int rank = static_cast<int>(cluster.block_rank());
  const int tid = static_cast<int>(threadIdx.x), warp = tid / 32, lane = tid % 32;
  const int G = p.samples_per_cluster;
  const std::int64_t sample0 = static_cast<std::int64_t>(blockIdx.x / kCluster) * G;  // the cluster's first
  const std::int64_t samples = min(static_cast<std::int64_t>(G), p.a.batch - sample0);  // >= 1
  const int valid_rows = static_cast<int>(2 * samples);
  // This block's attention: head h of local samples [half_samples, +T::half), rows [attn_row0, +T::attn_rows).
  const int h = rank % kHeads, half = rank / kHeads;
  const int half_samples = T::half * half, attn_row0 = T::attn_rows * half;
  const bool has_rows = attn_row0 < valid_rows;
  const Slots<kThreads> slots{smem, rank};
  const ClusterDecodeLayer* layers = p.a.layers;

  // Before the wait: layer 0's weights and context (complete before the step).
  Context ctx = block_context(p, layers[0], sample0 + half_samples, has_rows, h);
  slots.feature(layers[0]);
  __pipeline_commit();
  slots.qkv(layers[0]);
  __pipeline_commit();
  stage_context<kThreads>(smem, ctx, 0);
  __pipeline_commit();
  slots.out(layers[0]);
  __pipeline_commit();
  slots.ff0(layers[0]);
  __pipeline_commit();
  slots.ff2(layers[0]);
  __pipeline_commit();
  detail::start_after_previous_kernel();

  const int t = *p.a.step;
  // The row arrays: x (the layer's input), h (LN1's output) and, with three arrays, h2 (LN2's).
  float* xs = smem + T::off_x;
  float* hs = xs + T::rows * kD;
  float* const fs = smem + T::off_f;
  float* const as = smem + T::off_a;
  float* const qkvs = smem + T::off_qkv;
  {  // the step's rows, padding rows as zeros
    const float4* src = reinterpret_cast<const float4*>(p.a.x + 2 * sample0 * kD);
    gather_float4<kThreads, T::rows * kD / 4>(xs, [&](int idx) {
      return idx / (kD / 4) < valid_rows ? src[idx] : make_float4(0.f, 0.f, 0.f, 0.f);
    });
  }
  int parity = 0;  // which of the two product slices the next product writes
  const auto next_slice = [&] {
    float* slice = smem + T::off_p + parity * T::rows * kSliceD;
    parity ^= 1;
    return slice;
  };

  for (int l = 0; l < p.a.n_layers; ++l) {
    const ClusterDecodeLayer& L = layers[l];
    const ClusterDecodeLayer* next = l + 1 < p.a.n_layers ? &layers[l + 1] : nullptr;

    // 1. h = LN1(x + x Wf^T).
    wait_staged();
    float* slice = next_slice();
    d_slice<T, kD>(xs, smem + kOffFeature, nullptr, rank, slice);
    cluster_sync_around(cluster, [&] {
      if (next) slots.feature(*next);
      __pipeline_commit();
      // The block's buffer rows 0..t-2 of this layer (written by earlier steps) into L2, for its
      // attention two stages on.
      if (has_rows)
        for (int idx = tid; idx < T::half * 2 * max(t - 1, 0); idx += kThreads) {
          const int s_local = idx / (2 * max(t - 1, 1)), rest = idx % (2 * max(t - 1, 1));
          const std::int64_t b = sample0 + half_samples + s_local;
          if (b >= p.a.batch || half_samples + s_local >= G) continue;
          const float* row = buffer_row(rest % 2 == 0 ? L.buffer_k : L.buffer_v, b, h, p.a.capacity, rest / 2);
          asm volatile("prefetch.global.L2 [%0];" ::"l"(row));
        }
    });
    layer_norm_rows<T>(cluster, xs, slice, L.norm1_weight, L.norm1_bias, hs);

    // 2. q|k|v of head h for the block's attention rows; buffer rows' k, v appended at t - 1.
    wait_staged();
    {
      // Thread (ty = tid / 32, tx = tid % 32): rows ty, ty + attn_rows / 2 and columns tx, tx + 32, tx + 64.
      float sums[2][3];
      blocked_sums<kThreads, 2, 3, kD, 32>(hs, attn_row0, smem + kOffQkvW, sums);
      const int ty = tid / 32, tx = tid % 32;
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 3; ++j) {
          const int r = ty + T::attn_rows / 2 * i, c = tx + 32 * j, row = attn_row0 + r;
          qkvs[r * kQkv + c] = sums[i][j];
          if (c >= kDh && t >= 1 && row % 2 == 0 && row < valid_rows)
            buffer_row(c < 2 * kDh ? L.buffer_k : L.buffer_v, sample0 + row / 2, h, p.a.capacity, t - 1)[c % kDh] =
                sums[i][j];
        }
    }
    __syncthreads();
    if (next) slots.qkv(*next);
    __pipeline_commit();

    // 3. Attention of the block's rows (row_tile_attention's fused arithmetic; lanes as in Tile).
    wait_staged();
    {
      constexpr bool kNinthWarp = T::warps > kKeyGroups;
      const bool extra = kNinthWarp && warp >= kKeyGroups;  // warp 8 of the 18-sample tile: rows 16 and 17
      const int kg = extra ? lane / 4 : warp;
      const int row = extra ? 16 + lane % 4 / 2 : lane / 2, g = lane % 2;
      const int local = attn_row0 + row;
      const bool active = local < valid_rows;
      // Rows past the batch read (and discard) the keys of the block's first sample, whose buffer
      // row t-1 this block appended (another block's sample could still be being appended).
      const std::int64_t b = sample0 + (active ? local / 2 : half_samples);
      RowState st;
      st.m = -INFINITY;
      st.l = 0.f;
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        st.q[c] = *reinterpret_cast<const float4*>(qkvs + row * kQkv + 4 * (g + 2 * c));
        st.o[c] = make_float4(0.f, 0.f, 0.f, 0.f);
      }
      // A warp's batches: its own group's keys, or group 0's (the most) for warp 8.
      const int warp_group = extra ? 0 : warp;
      if (has_rows) {
        for (int first = 0; first < ctx.nc; first += kCtxKeys) {
          if (first > 0) {  // contexts over 256 keys: the further passes, loaded here
            __syncthreads();
            stage_context<kThreads>(smem, ctx, first);
            __pipeline_commit();
            __pipeline_wait_prior(0);
            __syncthreads();
          }
          const float* ck = smem + kOffCtxK;
          const float* cv = smem + kOffCtxV;
          const int keys = min(kCtxKeys, ctx.nc - first);
          walk_keys<kNinthWarp>(st, group_key_count(keys, warp_group), group_key_count(keys, kg), kg, active, g,
                                p.scale, [&](int j) { return ck + j * kDh; }, [&](int j) { return cv + j * kDh; });
        }
        const float* bk = buffer_row(L.buffer_k, b, h, p.a.capacity, 0);
        const float* bv = buffer_row(L.buffer_v, b, h, p.a.capacity, 0);
        walk_keys<kNinthWarp>(st, group_key_count(t, warp_group), group_key_count(t, kg), kg, active, g, p.scale,
                  [&](int j) { return bk + j * kDh; }, [&](int j) { return bv + j * kDh; });
      }
      // Merge the 8 key groups' states of each row in group order, in the context's staging space.
      __syncthreads();
      float* part_o = smem + kOffCtxK;  // [group][row][Dh]
      float* part_m = smem + kOffCtxV;  // [group][row]
      float* part_l = part_m + kKeyGroups * T::attn_rows;
      detail::store_warp_state<4, 2>(part_m, part_l, part_o, T::attn_rows, row, kg, kDh, g, kDh / 4, st.o, st.m, st.l);
      __syncthreads();
      if (tid < T::attn_rows * kDh / 4) {
        const int item_row = tid / (kDh / 4), chunk = tid % (kDh / 4);
        float l_sum;
        float4 acc;
        const float m = detail::merge_warp_states<kKeyGroups>(part_m, part_l, part_o, T::attn_rows, item_row, kDh,
                                                              chunk, l_sum, acc);
        const bool seen = m != -INFINITY && attn_row0 + item_row < valid_rows;
        float4 out = make_float4(0.f, 0.f, 0.f, 0.f);
        if (seen) out = make_float4(acc.x / l_sum, acc.y / l_sum, acc.z / l_sum, acc.w / l_sum);
        *reinterpret_cast<float4*>(as + item_row * kDh + 4 * chunk) = out;
      }
    }
    cluster_sync_around(cluster, [&] {  // the merge is done with the context's space
      if (next) {
        ctx = block_context(p, *next, sample0 + half_samples, has_rows, h);
        stage_context<kThreads>(smem, ctx, 0);
      }
      __pipeline_commit();
    });

    // 4. h2 = LN2(h + a Wo^T): the attention rows gathered from the blocks (head hh of row r is in
    // block hh + 4 (r / attn_rows)) into x's array (x is consumed).
    gather_float4<kThreads, T::rows * kD / 4>(xs, [&](int idx) {
      const int r = idx / (kD / 4), c4 = idx % (kD / 4);
      const int hh = 4 * c4 / kDh, d = 4 * c4 % kDh;
      const float* owner = cluster.map_shared_rank(as, hh + kHeads * (r / T::attn_rows));
      return *reinterpret_cast<const float4*>(owner + (r % T::attn_rows) * kDh + d);
    });
    wait_staged();
    slice = next_slice();
    d_slice<T, kD>(xs, smem + kOffOut, nullptr, rank, slice);
    cluster_sync_around(cluster, [&] {
      if (next) slots.out(*next);
      __pipeline_commit();
    });
    float* const h2s = T::alternating ? xs : hs + T::rows * kD;  // over the gathered rows, or the third array
    layer_norm_rows<T>(cluster, hs, slice, L.norm2_weight, L.norm2_bias, h2s);

    // 5. f = GELU(h2 Wff0^T + b): the block's 32 columns.
    wait_staged();
    {
      float sums[2][2];
      blocked_sums<kThreads, 2, 2, kD>(h2s, 0, smem + kOffFf0, sums);
      const int ty = tid / 16, tx = tid % 16;
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          const int c = tx + 16 * j;
          fs[(ty + T::rows / 2 * i) * kSliceFF + c] =
              detail::gelu_exact(sums[i][j] + L.ff_in_bias[kSliceFF * rank + c]);
        }
    }
    cluster_sync_around(cluster, [&] {
      if (next) slots.ff0(*next);
      __pipeline_commit();
    });

    // 6. x = LN3(h2 + f Wff2^T + b): f's rows gathered from the blocks' slices (block b's 32 columns
    // are k-block b of ff.2), all at once into the x and h arrays, or in two halves of k into h's.
    {
      constexpr int kWidth = kFF / T::ff2_passes, kBlocks = kWidth / detail::kChainK;
      float* const fg = T::alternating ? hs : xs;
      float part[kFF / detail::kChainK][2][1];
      const auto gather = [&](int pass) {
        gather_float4<kThreads, T::rows * kWidth / 4>(fg, [&](int idx) {
          const int r = idx / (kWidth / 4), c4 = idx % (kWidth / 4);
          const float* owner = cluster.map_shared_rank(fs, kBlocks * pass + 4 * c4 / kSliceFF);
          return *reinterpret_cast<const float4*>(owner + r * kSliceFF + 4 * c4 % kSliceFF);
        });
      };
      gather(0);
      wait_staged();
      chains<kThreads, 2, 1, 16, 0, kBlocks>(fg, kWidth, 0, smem + kOffFf2, kWsFF, part);
      if constexpr (T::ff2_passes == 2) {
        __syncthreads();  // the first half is consumed
        gather(1);
        __syncthreads();
        chains<kThreads, 2, 1, 16, kBlocks, kBlocks>(fg, kWidth, 0, smem + kOffFf2 + kWidth, kWsFF, part);
      }
      float sums[2][1];
      add_chains(part, sums);
      slice = next_slice();
      store_slice<T>(sums, L.ff_out_bias, rank, slice);
    }
    cluster_sync_around(cluster, [&] {
      if (next) slots.ff2(*next);
      __pipeline_commit();
    });
    if constexpr (T::alternating) {  // x into h's array; the next layer's h into this one's x
      layer_norm_rows<T>(cluster, h2s, slice, L.norm3_weight, L.norm3_bias, hs);
      float* const consumed = xs;
      xs = hs;
      hs = consumed;
    } else {
      layer_norm_rows<T>(cluster, h2s, slice, L.norm3_weight, L.norm3_bias, xs);
    }
  }

  // The last layer's rows: block `rank` stores rows rank, rank + 8, ...
  __syncthreads();
  for (int r = rank; r < valid_rows; r += kCluster)
    for (int j = tid; j < kD; j += kThreads) p.a.x[(2 * sample0 + r) * kD + j] = xs[r * kD + j];
  cluster.sync();  // no block leaves while another may still read its slices
#endif
}

// cudaOccupancyMaxActiveClusters for an instance's launch shape on the current device; 0 where it
// cannot run (no clusters, or less shared memory a block than it needs) or on an error.
template <int kSamples>
int count_resident_clusters() {
  using T = Tile<kSamples>;
  int device = 0, optin = 0;
  if (!device_has_clusters() || cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  if (static_cast<std::size_t>(optin) < T::bytes) return 0;
  detail::allow_shared_memory_once(cluster_layers_kernel<kSamples>, T::bytes);
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(kCluster * 64, 1, 1);
  config.blockDim = dim3(T::threads, 1, 1);
  config.dynamicSmemBytes = T::bytes;
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeClusterDimension;
  attribute.val.clusterDim.x = kCluster;
  attribute.val.clusterDim.y = 1;
  attribute.val.clusterDim.z = 1;
  config.attrs = &attribute;
  config.numAttrs = 1;
  int count = 0;
  if (cudaOccupancyMaxActiveClusters(&count, cluster_layers_kernel<kSamples>, &config) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return count;
}

// The instance for G samples a cluster: the 16-sample tile (attention halves of 8) up to 16.
bool eighteen_sample_tile(int G) { return G > kClusterDecodeHalvesOf8; }

// The samples of one attention half (a block's attention rows) at G samples a cluster.
int half_samples(int G) { return eighteen_sample_tile(G) ? Tile<18>::half : Tile<16>::half; }

template <int kSamples>
void launch(const Params& p, std::int64_t clusters, cudaStream_t stream) {
  using T = Tile<kSamples>;
  detail::allow_shared_memory_once(cluster_layers_kernel<kSamples>, T::bytes);
  detail::launch_in_clusters(cluster_layers_kernel<kSamples>, dim3(static_cast<unsigned int>(clusters * kCluster)),
                             dim3(T::threads), dim3(kCluster, 1, 1), T::bytes, stream, p);
}

}  // namespace

int cluster_decode_resident_clusters() {
  // Asked once per device (a host may mix GPU models), under a lock: contexts run on many threads.
  static std::mutex mutex;
  static std::map<int, int> by_device;
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  const std::lock_guard<std::mutex> lock(mutex);
  const auto known = by_device.find(device);
  if (known != by_device.end()) return known->second;
  // Both instances must be resident at that count (the same on an H100 and an H200: 15).
  return by_device[device] = std::min(count_resident_clusters<16>(), count_resident_clusters<18>());
}

bool cluster_decode_fits(int d_model, int n_heads, int d_ff, int n_layers) {
  return d_model == kD && n_heads == kHeads && d_ff == kFF && n_layers >= 1 && n_layers <= kClusterDecodeMaxLayers;
}

bool cluster_decode_available() { return cluster_decode_resident_clusters() >= 1; }

int cluster_decode_samples_per_cluster(std::int64_t batch) {
  // As many clusters as the device holds at once (15 of 8 blocks on an H100 or H200) until each
  // has kClusterDecodeMaxSamples: a launch of more clusters than that runs in waves.
  const std::int64_t resident = std::max(cluster_decode_resident_clusters(), 1);
  return static_cast<int>(std::clamp<std::int64_t>((batch + resident - 1) / resident, 1, kClusterDecodeMaxSamples));
}

bool cluster_decode_tasks_fit(const std::vector<std::int32_t>& task_of_sample) {
  const std::int64_t batch = static_cast<std::int64_t>(task_of_sample.size());
  const int G = cluster_decode_samples_per_cluster(batch), per_half = half_samples(G);
  for (std::int64_t first = 0; first < batch; first += G)
    for (std::int64_t half = first; half < std::min(first + G, batch); half += per_half) {
      const std::int64_t end = std::min({half + per_half, first + G, batch});
      for (std::int64_t b = half + 1; b < end; ++b)
        if (task_of_sample[static_cast<std::size_t>(b)] != task_of_sample[static_cast<std::size_t>(half)]) return false;
    }
  return true;
}

bool cluster_decode_aligned(const ClusterDecodeArgs& args) {
  bool ok = detail::aligned_16(args.x);
  for (int l = 0; l < args.n_layers && l < kClusterDecodeMaxLayers; ++l) {
    const ClusterDecodeLayer& L = args.layers[l];
    for (const float* m : {L.feature, L.qkv, L.out, L.ff_in, L.ff_out, L.context_k, L.context_v,
                           static_cast<const float*>(L.buffer_k), static_cast<const float*>(L.buffer_v)})
      ok = ok && detail::aligned_16(m);
  }
  return ok;
}

void cluster_decode_layers(const ClusterDecodeArgs& args, cudaStream_t stream) {
  detail::require(args.n_layers >= 1 && args.n_layers <= kClusterDecodeMaxLayers,
                  "cluster_decode_layers: n_layers must be 1..32");
  detail::require(args.batch >= 0 && args.capacity >= 1, "cluster_decode_layers: bad batch or capacity");
  if (args.batch == 0) return;
  detail::require(args.x != nullptr && args.step != nullptr && args.context_offset != nullptr &&
                      args.context_len != nullptr && args.task_of_sample != nullptr,
                  "cluster_decode_layers: null rows, step or context index");
  detail::require(cluster_decode_aligned(args),
                  "cluster_decode_layers: matrices, caches and rows must be 16-byte aligned");
  Params p{args, cluster_decode_samples_per_cluster(args.batch), 1.0f / std::sqrt(static_cast<float>(kDh))};
  const std::int64_t clusters = (args.batch + p.samples_per_cluster - 1) / p.samples_per_cluster;
  detail::require(clusters * kCluster <= 2147483647LL, "cluster_decode_layers: batch too large for one launch");
  if (eighteen_sample_tile(p.samples_per_cluster))
    launch<18>(p, clusters, stream);
  else
    launch<16>(p, clusters, stream);
}

}  // namespace artabpfn::kernels
