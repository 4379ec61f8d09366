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
// clusters then holds 270 samples, B 256 included; Tile in cluster_tile.cuh). Block `rank` of the
// cluster:
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
// the states merged in group order, all of it kernels/attention/online_softmax.cuh's one
// definition; only how keys and values are loaded differs: cluster_attention.cuh). The engine
// properties `ClusterStepChangesNoBit`, `ClusterStepFixedCases` and
// `ClusterStepWithLayeredBesideChangesNoBit` hold both instances to that.
//
// Weight and context staging: per layer six cp.async groups (feature map, q|k|v, context, out_proj,
// ff.0, ff.2), each refilled with the next layer's as soon as the current one is consumed (issued
// inside a cluster barrier's wait where one follows), so a stage waits with five groups still in
// flight (an empty group where there is nothing to load keeps that count right). Layer 0's groups
// are issued before the wait for the previous kernel: weights and context caches are complete
// before the step (kernels/launch.cuh).
//
// Files: cluster_tile.cuh (shape, tiles, shared memory, staging, barriers), cluster_products.cuh
// (products and LayerNorms), cluster_attention.cuh (the key walk); here a block's stages (Block,
// one member function a stage, in the order the kernel runs them), the kernel and the host side
// with the checks of kernels/decode.hpp's contract.
#include <cooperative_groups.h>
#include <cuda_pipeline.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <stdexcept>

#include "kernels/alignment.hpp"
#include "kernels/attention/online_softmax.cuh"
#include "kernels/cuda_check.hpp"
#include "kernels/decode.hpp"
#include "kernels/decode/cluster_attention.cuh"
#include "kernels/decode/cluster_products.cuh"
#include "kernels/decode/cluster_tile.cuh"
#include "kernels/device.hpp"
#include "kernels/launch.cuh"
#include "kernels/layer/device_math.cuh"

namespace artabpfn::kernels::cluster_step {

// One block of a cluster for the whole step: where it is in the cluster and the batch, its
// attention rows, its shared memory's row arrays, and the step's stages in the order they run.
// Every stage is computed by the same operations in the same order as the layered step's kernel.
template <int kSamples>
struct Block {
  using T = Tile<kSamples>;
  static constexpr int kThreads = T::threads;

  const Params& p;
  float* const smem;
  const cg::cluster_group cluster;
  const int rank, tid, warp, lane, G;
  const std::int64_t sample0;  // the cluster's first sample
  const int valid_rows;
  // This block's attention: head h of local samples [half_samples, +T::half), rows [attn_row0, +T::attn_rows).
  const int h, half_samples, attn_row0;
  const bool has_rows;
  const Slots<kThreads> slots;
  Context ctx;  // the context the next attention stage reads
  int t = 0;    // the step, read after the wait for the previous kernel
  // The row arrays: x (the layer's input), h (LN1's output) and, with three arrays, h2 (LN2's).
  float* xs;
  float* hs;
  float* const fs;
  float* const as;
  float* const qkvs;
  int parity = 0;  // which of the two product slices the next product writes

  __device__ Block(const Params& params, float* shared)
      : p(params),
        smem(shared),
        cluster(cg::this_cluster()),
        rank(static_cast<int>(cluster.block_rank())),
        tid(static_cast<int>(threadIdx.x)),
        warp(tid / 32),
        lane(tid % 32),
        G(p.samples_per_cluster),
        sample0(static_cast<std::int64_t>(blockIdx.x / kCluster) * G),
        valid_rows(static_cast<int>(2 * min(static_cast<std::int64_t>(G), p.a.batch - sample0))),  // >= 2
        h(rank % kHeads),
        half_samples(T::half * (rank / kHeads)),
        attn_row0(T::attn_rows * (rank / kHeads)),
        has_rows(attn_row0 < valid_rows),
        slots{smem, rank},
        xs(smem + T::off_x),
        hs(smem + T::off_x + T::rows * kD),
        fs(smem + T::off_f),
        as(smem + T::off_a),
        qkvs(smem + T::off_qkv) {}

  __device__ __forceinline__ float* next_slice() {
    float* slice = smem + T::off_p + parity * T::rows * kSliceD;
    parity ^= 1;
    return slice;
  }
  // LN2's output rows: over the gathered attention rows (two row arrays), or the third array.
  __device__ __forceinline__ float* h2_rows() const { return T::alternating ? xs : hs + T::rows * kD; }

  // Before the wait for the previous kernel: layer 0's weights and context (complete before the
  // step), one cp.async group each.
  __device__ __forceinline__ void stage_first_layer() {
    const ClusterDecodeLayer* layers = p.a.layers;
    ctx = block_context(p, layers[0], sample0 + half_samples, has_rows, h);
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
  }

  // After the wait: the step t and its rows, padding rows as zeros.
  __device__ __forceinline__ void load_rows() {
    t = *p.a.step;
    const float4* src = reinterpret_cast<const float4*>(p.a.x + 2 * sample0 * kD);
    gather_float4<kThreads, T::rows * kD / 4>(xs, [&](int idx) {
      return idx / (kD / 4) < valid_rows ? src[idx] : make_float4(0.f, 0.f, 0.f, 0.f);
    });
  }

  // 1. h = LN1(x + x Wf^T).
  __device__ __forceinline__ void feature_map_norm1(const ClusterDecodeLayer& L, const ClusterDecodeLayer* next) {
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
  }

  // 2. q|k|v of head h for the block's attention rows; buffer rows' k, v appended at t - 1.
  __device__ __forceinline__ void qkv_append(const ClusterDecodeLayer& L, const ClusterDecodeLayer* next) {
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
  }

  // 3. Attention of the block's rows (row_tile_attention's fused arithmetic; lanes as in Tile).
  __device__ __forceinline__ void attention(const ClusterDecodeLayer& L, const ClusterDecodeLayer* next) {
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
        float4 out = make_float4(0.f, 0.f, 0.f, 0.f);
        if (attn_row0 + item_row < valid_rows)
          out = make_float4(detail::normalised(acc.x, m, l_sum), detail::normalised(acc.y, m, l_sum),
                            detail::normalised(acc.z, m, l_sum), detail::normalised(acc.w, m, l_sum));
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
  }

  // 4. h2 = LN2(h + a Wo^T): the attention rows gathered from the blocks (head hh of row r is in
  // block hh + 4 (r / attn_rows)) into x's array (x is consumed).
  __device__ __forceinline__ void out_proj_norm2(const ClusterDecodeLayer& L, const ClusterDecodeLayer* next) {
    gather_float4<kThreads, T::rows * kD / 4>(xs, [&](int idx) {
      const int r = idx / (kD / 4), c4 = idx % (kD / 4);
      const int hh = 4 * c4 / kDh, d = 4 * c4 % kDh;
      const float* owner = cluster.map_shared_rank(as, hh + kHeads * (r / T::attn_rows));
      return *reinterpret_cast<const float4*>(owner + (r % T::attn_rows) * kDh + d);
    });
    wait_staged();
    float* const slice = next_slice();
    d_slice<T, kD>(xs, smem + kOffOut, nullptr, rank, slice);
    cluster_sync_around(cluster, [&] {
      if (next) slots.out(*next);
      __pipeline_commit();
    });
    float* const h2s = h2_rows();
    layer_norm_rows<T>(cluster, hs, slice, L.norm2_weight, L.norm2_bias, h2s);
  }

  // 5. f = GELU(h2 Wff0^T + b): the block's 32 columns.
  __device__ __forceinline__ void ff0_gelu(const ClusterDecodeLayer& L, const ClusterDecodeLayer* next) {
    float* const h2s = h2_rows();
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
  }

  // 6. x = LN3(h2 + f Wff2^T + b): f's rows gathered from the blocks' slices (block b's 32 columns
  // are k-block b of ff.2), all at once into the x and h arrays, or in two halves of k into h's.
  __device__ __forceinline__ void ff2_norm3(const ClusterDecodeLayer& L, const ClusterDecodeLayer* next) {
    float* const h2s = h2_rows();
    float* slice = nullptr;
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
  __device__ __forceinline__ void store_rows() {
    __syncthreads();
    for (int r = rank; r < valid_rows; r += kCluster)
      for (int j = tid; j < kD; j += kThreads) p.a.x[(2 * sample0 + r) * kD + j] = xs[r * kD + j];
    cluster.sync();  // no block leaves while another may still read its slices
  }
};

// One launch: clusters of kCluster blocks along x. p lives in the parameter space (__grid_constant__:
// the layers' array is indexed at run time without a local copy).
template <int kSamples>
__global__ void __launch_bounds__(Tile<kSamples>::threads, 1) cluster_layers_kernel(const __grid_constant__ Params p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  extern __shared__ __align__(16) float smem[];
  Block<kSamples> block(p, smem);
  block.stage_first_layer();
  detail::start_after_previous_kernel();
  block.load_rows();
  for (int l = 0; l < p.a.n_layers; ++l) {
    const ClusterDecodeLayer& L = p.a.layers[l];
    const ClusterDecodeLayer* next = l + 1 < p.a.n_layers ? &p.a.layers[l + 1] : nullptr;
    block.feature_map_norm1(L, next);
    block.qkv_append(L, next);
    block.attention(L, next);
    block.out_proj_norm2(L, next);
    block.ff0_gelu(L, next);
    block.ff2_norm3(L, next);
  }
  block.store_rows();
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

}  // namespace artabpfn::kernels::cluster_step

namespace artabpfn::kernels {

using cluster_step::eighteen_sample_tile;
using cluster_step::half_samples;
using cluster_step::kCluster;
using cluster_step::kD;
using cluster_step::kDh;
using cluster_step::kFF;
using cluster_step::kHeads;
using cluster_step::Params;

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
  return by_device[device] =
             std::min(cluster_step::count_resident_clusters<16>(), cluster_step::count_resident_clusters<18>());
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

bool cluster_decode_tasks_fit(std::span<const std::int32_t> task_of_sample) {
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

void cluster_decode_layers(const ClusterDecodeArgs& args, std::span<const std::int32_t> task_of_sample_host,
                           cudaStream_t stream) {
  detail::require(args.n_layers >= 1 && args.n_layers <= kClusterDecodeMaxLayers,
                  "cluster_decode_layers: n_layers must be 1..32");
  detail::require(cluster_decode_fits(args.d_model, args.n_heads, args.d_ff, args.n_layers),
                  "cluster_decode_layers: compiled for D 128, 4 heads, d_ff 256 only (cluster_decode_fits)");
  detail::require(args.batch >= 0 && args.capacity >= 1, "cluster_decode_layers: bad batch or capacity");
  detail::require(task_of_sample_host.size() == static_cast<std::size_t>(args.batch),
                  "cluster_decode_layers: the host copy of task_of_sample must have batch entries");
  if (args.batch == 0) return;
  detail::require(args.x != nullptr && args.step != nullptr && args.context_offset != nullptr &&
                      args.context_len != nullptr && args.task_of_sample != nullptr,
                  "cluster_decode_layers: null rows, step or context index");
  detail::require(cluster_decode_aligned(args),
                  "cluster_decode_layers: matrices, caches and rows must be 16-byte aligned");
  detail::require(cluster_decode_tasks_fit(task_of_sample_host),
                  "cluster_decode_layers: a block's samples are of different tasks (cluster_decode_tasks_fit)");
  Params p{args, cluster_decode_samples_per_cluster(args.batch), 1.0f / std::sqrt(static_cast<float>(kDh))};
  const std::int64_t clusters = (args.batch + p.samples_per_cluster - 1) / p.samples_per_cluster;
  detail::require(clusters * kCluster <= 2147483647LL, "cluster_decode_layers: batch too large for one launch");
  if (eighteen_sample_tile(p.samples_per_cluster))
    cluster_step::launch<18>(p, clusters, stream);
  else
    cluster_step::launch<16>(p, clusters, stream);
}

}  // namespace artabpfn::kernels
