// The resident decode step (kernels/decode.hpp): one launch per AR step, a thread block per
// group of G samples, everything between the embedding and the sample in shared memory.
//
// Block of 256 threads, rows r = 2g (buffer row t-1 of sample g; zeros at t = 0, as the layered
// step's dummy row) and r = 2g + 1 (target row t), R = 2G rows. Per layer:
//   t1 = x Wv_f^T; t2 = t1 Wo_f^T; h = LN1(x + t2); qkv = h Wqkv^T; append K/V of rows 2g at
//   t-1; a = attention(qkv); t1 = a Wo^T; h2 = LN2(h + t1); f = GELU(h2 W1^T + b1);
//   t1 = f W2^T + b2; x = LN3(h2 + t1)
// then z = LN(x of the target rows), hidden = GELU(z H0^T + c0), r = hidden H2^T + c2, and the
// mixture sample (or log density) of each sample. Barriers between stages are block barriers.
//
// The same operations in the same order as the layered step (the contract in kernels/decode.hpp):
//   products   one thread per (output, up to 4 rows), acc = fma(x[k], W[o, k], acc) for k = 0..in-1,
//              then + bias, GELU: linear.cu's chain, whichever thread runs it
//   LayerNorm  a warp per row, detail::row_stats (layer_norm.cu)
//   attention  row_tile_attention.cu's fused variant, restated per (row, head): scores
//              q.k (FMA chain of 4 per float4 chunk, its pairwise tree over a lane's chunks and
//              the butterfly over the G lanes of its head-dim class, emulated in one thread),
//              times 1/sqrt(Dh); partial state w = 0..3 takes keys j = w (mod 4) of the context,
//              then of the buffer, in increasing j, with the same lazy rescaling; the four states
//              merge in order w = 0..3 (see attention_phase for how the update is split up)
//   embedding, mixture   the shared device functions of rows/embed_value.cuh and
//              layer/mixture_row.cuh
// Which block or thread computes a value never changes its bits: results are batch invariant.
#include <cuda/ptx>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/cuda_check.hpp"
#include "kernels/decode.hpp"
#include "kernels/layer/device_math.cuh"
#include "kernels/layer/mixture_row.cuh"
#include "kernels/rows/embed_value.cuh"
#ifdef ARTABPFN_MUTATIONS
#include "kernels/mutations.hpp"  // fault hooks: only in the conformance mutation-test copy
#endif

namespace artabpfn::kernels {
namespace {

constexpr int kThreads = 512;
constexpr int kWarps = kThreads / 32;
constexpr int kPartials = 4;  // partial softmax states per (row, head): row_tile_attention.cu's 4 warps
constexpr float kRescaleThreshold = 8.f;  // as row_tile_attention.cu
constexpr int kMaxGroup = 8;

// Shared-memory layout in floats (each array starts on a 16-byte boundary).
struct Layout {
  int rows, d_model, heads, head_dim, padded_dim, d_ff, mix_width, key_chunk;
  int state_items;  // rows * heads * 4 partials * float4 chunks of the padded head dim
  int tiles, barriers, state_o, state_m, state_l, x, h, h2, a, t1, t2, big, scores, weights, sources, total;

  __host__ __device__ static int up4(int n) { return (n + 3) / 4 * 4; }
  __host__ __device__ Layout(int rows_, int d_model_, int heads_, int d_ff_, int components, int key_chunk_)
      : rows(rows_), d_model(d_model_), heads(heads_), head_dim(d_model_ / heads_),
        padded_dim(up4(d_model_ / heads_)), d_ff(d_ff_), mix_width(3 * components), key_chunk(key_chunk_) {
    state_items = rows * heads * kPartials * (padded_dim / 4);
    int at = 0;
    const auto take = [&at](int floats) {
      const int start = at;
      at += up4(floats);
      return start;
    };
    tiles = take(2 * kDecodeTileFloats);  // TileStream buffers (16-byte aligned: offset 0)
    barriers = take(4);                    // its two mbarriers
    state_o = take(4 * state_items);
    state_m = take(rows * heads * kPartials);
    state_l = take(state_items);
    x = take(rows * d_model);
    h = take(rows * d_model);
    h2 = take(rows * d_model);
    a = take(rows * d_model);
    t1 = take(rows * (d_model > mix_width ? d_model : mix_width));
    t2 = take(rows * d_model);
    big = take(rows * (3 * d_model > d_ff ? 3 * d_model : d_ff));
    scores = take(rows * heads * key_chunk);   // scores, then the probabilities p
    weights = take(rows * heads * key_chunk);  // m before each key, then the rescaling factors
    sources = take(4 * (rows / 2) * heads + rows / 2);  // KeySources: 2 pointers per (sample, head), a limit per sample
    total = at;
  }
};

struct Args {
  DecodeModel m;
  DecodeJob j;
  int group, key_chunk;
  float scale;  // 1 / sqrt(Dh), as the attention kernels compute it
#ifdef ARTABPFN_MUTATIONS
  int ar_shift;  // 1: buffer j takes AR token j + 1 (mutant)
#endif
};

// DecodeJob::stage_cycles: thread 0 of block 0 charges the cycles since the previous mark to a
// stage, right after the block barrier that ends it.
struct StageClock {
  unsigned long long* out;
  long long last;
  __device__ void start(unsigned long long* cycles) {
    out = blockIdx.x == 0 && threadIdx.x == 0 ? cycles : nullptr;
    last = clock64();
  }
  __device__ void mark(int stage) {
    if (out == nullptr) return;
    const long long now = clock64();
    out[stage] += static_cast<unsigned long long>(now - last);
    last = now;
  }
};

// The weight-tile stream (kernels/decode.hpp): two shared-memory buffers, each filled by one bulk
// copy (TMA) that completes on the buffer's mbarrier. Tile n goes to buffer n % 2; thread 0 issues
// tile n + 2 once every thread is done with tile n, so each copy overlaps the work on the tile
// before it. Every thread counts the tiles alike (next).
struct TileStream {
  float* buffer;          // [2][kDecodeTileFloats]
  std::uint64_t* ready;   // [2]: one arrival (thread 0's, with the byte count) + the copy per phase
  const DecodeTile* tiles;
  int count, next;

  __device__ void issue(int n) const {  // thread 0
    if (n >= count) return;
    const DecodeTile tile = tiles[n];
    std::uint64_t* bar = &ready[n % 2];
    cuda::ptx::mbarrier_arrive_expect_tx(cuda::ptx::sem_release, cuda::ptx::scope_cta, cuda::ptx::space_shared, bar,
                                         tile.bytes);
    cuda::ptx::cp_async_bulk(cuda::ptx::space_cluster, cuda::ptx::space_global, buffer + (n % 2) * kDecodeTileFloats,
                             tile.source, tile.bytes, bar);
  }
  __device__ void start() const {
    if (threadIdx.x == 0) {
      cuda::ptx::mbarrier_init(&ready[0], 1);
      cuda::ptx::mbarrier_init(&ready[1], 1);
      cuda::ptx::fence_mbarrier_init(cuda::ptx::sem_release, cuda::ptx::scope_cluster);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      issue(0);
      issue(1);
    }
  }
  // Waits until tile `next` has landed; its [in, width] floats.
  __device__ const float* acquire() const {
    const std::uint32_t parity = static_cast<std::uint32_t>((next / 2) % 2);
    while (!cuda::ptx::mbarrier_try_wait_parity(&ready[next % 2], parity)) {
    }
    return buffer + (next % 2) * kDecodeTileFloats;
  }
  // Every thread is done with tile `next` (and its outputs are visible): its buffer takes tile next + 2.
  __device__ void release() {
    __syncthreads();
    if (threadIdx.x == 0) issue(next + 2);
    ++next;
  }
};

// y[r, c0 + o] = act(sum_k x[r, k] w[k, o] + bias[c0 + o]) for r < rows, o < tn, from one tile w
// [k_count, width] in shared memory. A thread owns one output for kRowsPerItem rows; consecutive
// threads read consecutive words of w; 8 k at a time, their FMAs in k order.
template <bool kVec4, int kRowsPerItem>
__device__ __forceinline__ void tile_product(const float* w, int width, const float* x, int x_stride, int rows,
                                             int k_count, int tn, int c0, const float* __restrict__ bias, bool gelu,
                                             float* y, int y_stride) {
  constexpr int kBatch = 8;
  const int row_groups = (rows + kRowsPerItem - 1) / kRowsPerItem;
  for (int item = static_cast<int>(threadIdx.x); item < tn * row_groups; item += kThreads) {
    const int o = item % tn, r0 = (item / tn) * kRowsPerItem;
    const float* wo = w + o;
    float acc[kRowsPerItem];
#pragma unroll
    for (int i = 0; i < kRowsPerItem; ++i) acc[i] = 0.0f;
    int k0 = 0;
    for (; k0 + kBatch <= k_count; k0 += kBatch) {
      float wv[kBatch];
#pragma unroll
      for (int u = 0; u < kBatch; ++u) wv[u] = wo[(k0 + u) * width];
#pragma unroll
      for (int i = 0; i < kRowsPerItem; ++i) {
        if (r0 + i >= rows) break;
        const float* xr = x + (r0 + i) * x_stride + k0;
        float xv[kBatch];
        if constexpr (kVec4) {
          const float4 a = *reinterpret_cast<const float4*>(xr), b = *reinterpret_cast<const float4*>(xr + 4);
          xv[0] = a.x, xv[1] = a.y, xv[2] = a.z, xv[3] = a.w, xv[4] = b.x, xv[5] = b.y, xv[6] = b.z, xv[7] = b.w;
        } else {
#pragma unroll
          for (int u = 0; u < kBatch; ++u) xv[u] = xr[u];
        }
#pragma unroll
        for (int u = 0; u < kBatch; ++u) acc[i] = fmaf(xv[u], wv[u], acc[i]);
      }
    }
    for (; k0 < k_count; ++k0) {
      const float wv = wo[k0 * width];
#pragma unroll
      for (int i = 0; i < kRowsPerItem; ++i) {
        if (r0 + i >= rows) break;
        acc[i] = fmaf(x[(r0 + i) * x_stride + k0], wv, acc[i]);
      }
    }
#pragma unroll
    for (int i = 0; i < kRowsPerItem; ++i) {
      if (r0 + i >= rows) break;
      float v = acc[i];
      if (bias != nullptr) v = v + bias[c0 + o];
      if (gelu) v = detail::gelu_exact(v);
      y[(r0 + i) * y_stride + c0 + o] = v;
    }
  }
}

// y [rows, n_out] = act(x W^T + bias) with W streamed tile by tile. Rows per thread: the fewest
// waves of work items over the block (ties: more rows per thread, fewer reads of the tile).
// Not inlined (nor the other stages): one copy of each stage's code keeps the kernel small enough
// for the instruction cache.
template <bool kVec4>
__device__ __noinline__ void linear_rows(TileStream& stream, StageClock& clock, const float* x, int x_stride,
                                            int rows, int k_count, int n_out, const float* bias, bool gelu, float* y,
                                            int y_stride) {
  const int width = decode_tile_width(k_count, n_out);
  for (int c0 = 0; c0 < n_out; c0 += width) {
    const float* w = stream.acquire();
    const int tn = min(width, n_out - c0);
    const auto waves = [&](int per) { return (tn * ((rows + per - 1) / per) + kThreads - 1) / kThreads; };
    if (waves(4) <= waves(2) && waves(4) <= waves(1))
      tile_product<kVec4, 4>(w, width, x, x_stride, rows, k_count, tn, c0, bias, gelu, y, y_stride);
    else if (waves(2) <= waves(1))
      tile_product<kVec4, 2>(w, width, x, x_stride, rows, k_count, tn, c0, bias, gelu, y, y_stride);
    else
      tile_product<kVec4, 1>(w, width, x, x_stride, rows, k_count, tn, c0, bias, gelu, y, y_stride);
    stream.release();
  }
  clock.mark(kStageProducts);
}

// out[r] = LN(a[r] + b[r]) * weight + bias for r < rows (b may be null); input row r at
// a + (in_offset + in_step * r) * width. A warp per row with layer_norm.cu's statistics.
__device__ __noinline__ void block_layer_norm(StageClock& clock, const float* a, const float* b, int in_offset,
                                                 int in_step, int rows, int width, const float* __restrict__ weight,
                                                 const float* __restrict__ bias, float* out) {
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  for (int r = warp; r < rows; r += kWarps) {
    const int base = (in_offset + in_step * r) * width;
    float v[8];
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const int j = lane + 32 * i;
      v[i] = j < width ? (b != nullptr ? a[base + j] + b[base + j] : a[base + j]) : 0.0f;
    }
    const auto [m0, delta, denom] = detail::row_stats<8>(v, lane, width);
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const int j = lane + 32 * i;
      if (j < width) out[r * width + j] = ((v[i] - m0) - delta) / denom * weight[j] + bias[j];
    }
  }
  __syncthreads();
  clock.mark(kStageLayerNorm);
}

// Float4 chunk `chunk` of a head-dim vector, zeros in the padding past head_dim. kVec4: head_dim
// is a multiple of 4 and v 16-byte aligned (one vector load; read-only global data via the
// read-only path when kGlobal).
template <bool kVec4, bool kGlobal>
__device__ __forceinline__ float4 chunk_of(const float* v, int chunk, int head_dim) {
  if constexpr (kVec4) {
    const float4* at = reinterpret_cast<const float4*>(v) + chunk;
    if constexpr (kGlobal) return __ldg(at);
    else return *at;
  } else {
    float e[4];
#pragma unroll
    for (int u = 0; u < 4; ++u) e[u] = 4 * chunk + u < head_dim ? v[4 * chunk + u] : 0.0f;
    return make_float4(e[0], e[1], e[2], e[3]);
  }
}

// q.k as row_tile_attention.cu computes it (see the top of this file), unscaled, for the head-dim
// class (kTreeChunks float4 chunks per lane, kLanes lanes per row): compile-time sizes, so the
// partial sums stay in registers.
template <bool kVec4, int kTreeChunks, int kLanes>
__device__ __forceinline__ float tree_dot(const float* q, const float* k, int head_dim, int chunks_used) {
  float lane_sum[kLanes];
#pragma unroll
  for (int li = 0; li < kLanes; ++li) {
    float part[kTreeChunks];
#pragma unroll
    for (int c = 0; c < kTreeChunks; ++c) {
      const int chunk = li + kLanes * c;
      part[c] = 0.f;
      if (chunk < chunks_used) {
        const float4 qc = chunk_of<kVec4, false>(q, chunk, head_dim), kc = chunk_of<kVec4, true>(k, chunk, head_dim);
        float t = qc.x * kc.x;
        t = fmaf(qc.y, kc.y, t);
        t = fmaf(qc.z, kc.z, t);
        part[c] = fmaf(qc.w, kc.w, t);
      }
    }
#pragma unroll
    for (int width = 1; width < kTreeChunks; width *= 2)
#pragma unroll
      for (int c = 0; c + width < kTreeChunks; c += 2 * width) part[c] += part[c + width];
    lane_sum[li] = part[0];
  }
#pragma unroll
  for (int off = kLanes / 2; off > 0; off /= 2) {  // lane li adds lane li ^ off, as __shfl_xor_sync
    float next[kLanes];
#pragma unroll
    for (int li = 0; li < kLanes; ++li) next[li] = lane_sum[li] + lane_sum[li ^ off];
#pragma unroll
    for (int li = 0; li < kLanes; ++li) lane_sum[li] = next[li];
  }
  return lane_sum[0];
}

// The keys of one phase for sample g of the block and head h: key j at k + j * Dh (and v), of
// which the sample's rows see the first `limit`. Filled once per phase into shared memory.
struct KeySources {
  const float** k;  // [group * heads]
  const float** v;
  int* limit;       // [group]
};

template <bool kBuffer>
__device__ __forceinline__ void fill_key_sources(const Args& p, const KeySources& src, int layer, std::int64_t b0,
                                                 int samples, int t) {
  const int H = p.m.n_heads, head_dim = p.m.d_model / H;
  for (int item = static_cast<int>(threadIdx.x); item < samples * H; item += kThreads) {
    const int g = item / H, h = item % H;
    const std::int64_t sample = b0 + g;
    if constexpr (kBuffer) {
      const std::int64_t base = (sample * H + h) * static_cast<std::int64_t>(p.j.capacity) * head_dim;
      src.k[item] = p.j.buffer_k[layer] + base;
      src.v[item] = p.j.buffer_v[layer] + base;
      if (h == 0) src.limit[g] = t;
    } else {
      const std::int32_t task = p.j.task_of_sample[sample];
      const int nc = p.j.context_len[task];
      const std::int64_t base = p.j.context_offset[task] + static_cast<std::int64_t>(h) * nc * head_dim;
      src.k[item] = p.j.context_k[layer] + base;
      src.v[item] = p.j.context_v[layer] + base;
      if (h == 0) src.limit[g] = nc;
    }
  }
  __syncthreads();
}

// One phase (context, then buffer) of the block's attention: the partial states in shared
// memory advance over the phase's keys, key_chunk keys at a time, in four passes per chunk:
//   1. scores s of every (row, head, key)                                       (in parallel)
//   2. per (row, head, w): the reference point m before each of its keys, updated where
//      s > m + 8: a compare-and-select scan, no exp                           (a short chain)
//   3. per key: p = 1 and alpha = exp(m - s) where it rescales, else p = exp(s - m), alpha = 1
//                                                                              (in parallel)
//   4. per (row, head, w, float4 chunk): l = l * alpha + p, o = fma(p, v, o * alpha) in key order
// The values are those of row_tile_attention.cu's per-key update: there the rescaling multiplies
// (explicitly rounded) only where it rescales; here it multiplies by exactly 1 elsewhere, which
// changes no bit, and the expensive exp calls leave the sequential chain.
template <bool kBuffer, bool kVec4, int kTreeChunks, int kLanes>
__device__ __noinline__ void attention_phase(const Args& p, const Layout& L, float* sm, StageClock& clock, const KeySources& src,
                                int layer, std::int64_t b0, int rows, int t) {
  const int H = L.heads, Dh = L.head_dim, chunks_used = L.padded_dim / 4, KC = L.key_chunk;
  const int kc_shift = __ffs(KC) - 1;  // KC is a power of two
  const int q_stride = 3 * L.d_model;
  fill_key_sources<kBuffer>(p, src, layer, b0, rows / 2, t);
  clock.mark(kStageKeySources);
  int phase_keys = 0;
  for (int g = 0; g < rows / 2; ++g) phase_keys = max(phase_keys, src.limit[g]);
  float4* state_o = reinterpret_cast<float4*>(sm + L.state_o);
  float* state_m = sm + L.state_m;
  float* state_l = sm + L.state_l;
  float* prob = sm + L.scores;    // scores, then p
  float* factor = sm + L.weights;  // m before the key, then alpha
  const int keys_items = rows * H * KC, scan_items = rows * H * kPartials, walk_items = scan_items * chunks_used;
  for (int j0 = 0; j0 < phase_keys; j0 += KC) {
#pragma unroll 4  // independent items: their key loads can be in flight together
    for (int item = static_cast<int>(threadIdx.x); item < keys_items; item += kThreads) {
      const int jj = item & (KC - 1), rh = item >> kc_shift, h = rh % H, r = rh / H, j = j0 + jj;
      if (j >= src.limit[r / 2]) continue;
      const float* q = sm + L.big + r * q_stride + h * Dh;
      const float* key = src.k[(r / 2) * H + h] + static_cast<std::int64_t>(j) * Dh;
      prob[item] = __fmul_rn(tree_dot<kVec4, kTreeChunks, kLanes>(q, key, Dh, chunks_used), p.scale);
    }
    __syncthreads();
    clock.mark(kStageScores);
    for (int item = static_cast<int>(threadIdx.x); item < scan_items; item += kThreads) {
      const int w = item % kPartials, rh = item / kPartials, r = rh / H;
      const int end = min(j0 + KC, src.limit[r / 2]);
      float m = state_m[item];
      for (int j = j0 + w; j < end; j += kPartials) {
        const int at = (rh << kc_shift) + (j - j0);
        factor[at] = m;
        const float score = prob[at];
        if (score > m + kRescaleThreshold) m = score;
      }
      state_m[item] = m;
    }
    __syncthreads();
    clock.mark(kStageScan);
    for (int item = static_cast<int>(threadIdx.x); item < keys_items; item += kThreads) {
      const int jj = item & (KC - 1), r = (item >> kc_shift) / H;
      if (j0 + jj >= src.limit[r / 2]) continue;
      const float score = prob[item], m = factor[item];
      if (score > m + kRescaleThreshold) {
        factor[item] = expf(m - score);  // 0 for the first key (m = -inf)
        prob[item] = 1.f;
      } else {
        factor[item] = 1.f;
        prob[item] = expf(score - m);
      }
    }
    __syncthreads();
    clock.mark(kStageProbabilities);
    for (int item = static_cast<int>(threadIdx.x); item < walk_items; item += kThreads) {
      const int c = item % chunks_used, rest = item / chunks_used, rh = rest / kPartials, w = rest % kPartials;
      const int h = rh % H, r = rh / H;
      const float* values = src.v[(r / 2) * H + h];
      const int end = min(j0 + KC, src.limit[r / 2]);
      float l = state_l[item];
      float4 o = state_o[item];
      // 16 keys' values in flight per round trip, then their updates in key order.
      constexpr int kBatch = 16;
      for (int first = j0 + w; first < end; first += kPartials * kBatch) {
        float4 v[kBatch];
#pragma unroll
        for (int u = 0; u < kBatch; ++u) {
          const int j = first + kPartials * u;
          v[u] = chunk_of<kVec4, true>(values + static_cast<std::int64_t>(j < end ? j : first) * Dh, c, Dh);
        }
#pragma unroll
        for (int u = 0; u < kBatch; ++u) {
          const int j = first + kPartials * u;
          if (j >= end) break;
          const int at = (rh << kc_shift) + (j - j0);
          const float alpha = factor[at], pj = prob[at];
          l = __fmul_rn(l, alpha);
          o.x = __fmul_rn(o.x, alpha);
          o.y = __fmul_rn(o.y, alpha);
          o.z = __fmul_rn(o.z, alpha);
          o.w = __fmul_rn(o.w, alpha);
          l += pj;
          o.x = fmaf(pj, v[u].x, o.x);
          o.y = fmaf(pj, v[u].y, o.y);
          o.z = fmaf(pj, v[u].z, o.z);
          o.w = fmaf(pj, v[u].w, o.w);
        }
      }
      state_l[item] = l;
      state_o[item] = o;
    }
    __syncthreads();
    clock.mark(kStageAccumulate);
  }
}

// a [rows, D] = fused attention of the q in L.big over the context and buffer rows 0..t-1.
template <bool kVec4, int kTreeChunks, int kLanes>
__device__ __noinline__ void block_attention(const Args& p, const Layout& L, float* sm, StageClock& clock, int layer,
                                std::int64_t b0, int rows, int t) {
  const int chunks_used = L.padded_dim / 4;
  float4* state_o = reinterpret_cast<float4*>(sm + L.state_o);
  for (int item = static_cast<int>(threadIdx.x); item < rows * L.heads * kPartials * chunks_used; item += kThreads) {
    if (item < rows * L.heads * kPartials) sm[L.state_m + item] = -INFINITY;
    sm[L.state_l + item] = 0.f;
    state_o[item] = make_float4(0.f, 0.f, 0.f, 0.f);
  }
  __syncthreads();
  const KeySources src{reinterpret_cast<const float**>(sm + L.sources),
                       reinterpret_cast<const float**>(sm + L.sources) + L.rows / 2 * L.heads,
                       reinterpret_cast<int*>(sm + L.sources + 4 * (L.rows / 2) * L.heads)};
  attention_phase<false, kVec4, kTreeChunks, kLanes>(p, L, sm, clock, src, layer, b0, rows, t);
  attention_phase<true, kVec4, kTreeChunks, kLanes>(p, L, sm, clock, src, layer, b0, rows, t);
  // Merge the four partial states of each (row, head) in order w = 0..3 and normalise.
  for (int item = static_cast<int>(threadIdx.x); item < rows * L.heads * chunks_used; item += kThreads) {
    const int c = item % chunks_used, rh = item / chunks_used, h = rh % L.heads, r = rh / L.heads;
    const int first = rh * kPartials * chunks_used + c;  // state item of (row, head, w = 0, c)
    const float* part_m = sm + L.state_m + rh * kPartials;
    float m = -INFINITY;
    for (int w = 0; w < kPartials; ++w) m = fmaxf(m, part_m[w]);
    float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
    float l = 0.f;
    if (m != -INFINITY) {
      for (int w = 0; w < kPartials; ++w) {
        const int s = first + w * chunks_used;
        const float mw = part_m[w];
        if (mw == -INFINITY) continue;
        const float f = expf(mw - m);
        l = fmaf(f, sm[L.state_l + s], l);
        const float4 ow = state_o[s];
        acc.x = fmaf(f, ow.x, acc.x);
        acc.y = fmaf(f, ow.y, acc.y);
        acc.z = fmaf(f, ow.z, acc.z);
        acc.w = fmaf(f, ow.w, acc.w);
      }
    }
    const float e[4] = {acc.x, acc.y, acc.z, acc.w};
    float* dst = sm + L.a + r * L.d_model + h * L.head_dim;
    for (int u = 0; u < 4; ++u)
      if (4 * c + u < L.head_dim) dst[4 * c + u] = m == -INFINITY ? 0.f : e[u] / l;
  }
  __syncthreads();
  clock.mark(kStageMerge);
}

template <bool kVec4, int kTreeChunks, int kLanes>
__global__ void __launch_bounds__(kThreads) resident_step_kernel(const Args p) {
  extern __shared__ float4 shared4[];
  float* sm = reinterpret_cast<float*>(shared4);
  const DecodeModel& m = p.m;
  const DecodeJob& job = p.j;
  const int D = m.d_model, H = m.n_heads, Dh = D / H, t = *job.step;
  const std::int64_t b0 = static_cast<std::int64_t>(blockIdx.x) * p.group;
  const std::int64_t left = job.batch - b0;
  const int samples = left < p.group ? static_cast<int>(left) : p.group;
  const int rows = 2 * samples;
  const Layout L(2 * p.group, D, H, m.d_ff, m.mixture.components, p.key_chunk);
#ifdef ARTABPFN_MUTATIONS
  const int ar_shift = p.ar_shift;
#else
  constexpr int ar_shift = 0;
#endif

  TileStream stream{sm + L.tiles, reinterpret_cast<std::uint64_t*>(sm + L.barriers), m.tiles, m.tile_count, 0};
  stream.start();
  StageClock clock;
  clock.start(job.stage_cycles);

  // Embedding: the layered step's embed_decode_step.
  for (int i = static_cast<int>(threadIdx.x); i < rows * D; i += kThreads) {
    const int r = i / D, c = i % D;
    const std::int64_t b = b0 + r / 2;
    float value = 0.0f;
    if (r % 2 == 1)
      value = detail::embed_value(m.embedding, job.x + (std::int64_t(job.x_base[b]) + t) * job.features, job.features,
                                  nullptr, /*marker=*/0, -1, c);
    else if (t > 0)
      value = detail::embed_value(m.embedding, job.x + (std::int64_t(job.x_base[b]) + t - 1) * job.features,
                                  job.features, job.values + std::int64_t(t - 1) * job.batch + b, /*marker=*/2,
                                  t - 1 + ar_shift, c);
    sm[L.x + i] = value;
  }
  __syncthreads();
  clock.mark(kStageEmbed);

  for (int layer = 0; layer < m.n_layers; ++layer) {
    const DecodeLayer& w = m.layers[layer];
    linear_rows<kVec4>(stream, clock, sm + L.x, D, rows, D, D, nullptr, false, sm + L.t1, D);
    linear_rows<kVec4>(stream, clock, sm + L.t1, D, rows, D, D, nullptr, false, sm + L.t2, D);
    block_layer_norm(clock, sm + L.x, sm + L.t2, 0, 1, rows, D, w.norm1_weight, w.norm1_bias, sm + L.h);
    linear_rows<kVec4>(stream, clock, sm + L.h, D, rows, D, 3 * D, nullptr, false, sm + L.big, 3 * D);
    if (t > 0) {  // buffer row t-1 joins the cache before the step's attention
      for (int i = static_cast<int>(threadIdx.x); i < samples * D; i += kThreads) {
        const int g = i / D, c = i % D, h = c / Dh, d = c % Dh;
        const std::int64_t at = (((b0 + g) * H + h) * job.capacity + (t - 1)) * Dh + d;
        job.buffer_k[layer][at] = sm[L.big + 2 * g * 3 * D + D + c];
        job.buffer_v[layer][at] = sm[L.big + 2 * g * 3 * D + 2 * D + c];
      }
      __syncthreads();  // block barriers order this block's global writes before its reads
      clock.mark(kStageAppend);
    }
    block_attention<kVec4, kTreeChunks, kLanes>(p, L, sm, clock, layer, b0, rows, t);
    linear_rows<kVec4>(stream, clock, sm + L.a, D, rows, D, D, nullptr, false, sm + L.t1, D);
    block_layer_norm(clock, sm + L.h, sm + L.t1, 0, 1, rows, D, w.norm2_weight, w.norm2_bias, sm + L.h2);
    linear_rows<kVec4>(stream, clock, sm + L.h2, D, rows, D, m.d_ff, w.ff_in_bias, true, sm + L.big, m.d_ff);
    linear_rows<kVec4>(stream, clock, sm + L.big, m.d_ff, rows, m.d_ff, D, w.ff_out_bias, false, sm + L.t1, D);
    block_layer_norm(clock, sm + L.h2, sm + L.t1, 0, 1, rows, D, w.norm3_weight, w.norm3_bias, sm + L.x);
  }

  // Head on the target rows (1, 3, ...): final LayerNorm, two products, the mixture.
  block_layer_norm(clock, sm + L.x, nullptr, 1, 2, samples, D, m.final_norm_weight, m.final_norm_bias, sm + L.h);
  linear_rows<kVec4>(stream, clock, sm + L.h, D, samples, D, m.d_ff, m.head_in_bias, true, sm + L.big, m.d_ff);
  const int K3 = 3 * m.mixture.components;
  linear_rows<kVec4>(stream, clock, sm + L.big, m.d_ff, samples, m.d_ff, K3, m.head_out_bias, false, sm + L.t1, K3);
  for (int g = static_cast<int>(threadIdx.x); g < samples; g += kThreads) {
    const std::int64_t b = b0 + g, at = std::int64_t(t) * job.batch + b;
    const float* r = sm + L.t1 + g * K3;
    if (job.log_density != nullptr)
      job.log_density[at] = detail::mixture_log_density_row(r, m.mixture, job.values[at]);
    else
      job.values[at] = detail::mixture_sample_row(r, m.mixture, job.seed, job.task_id[b], job.sample_index[b],
                                                  static_cast<std::uint32_t>(t)).y;
  }
  __syncthreads();
  clock.mark(kStageMixture);
}

template <bool kVec4, int kTreeChunks, int kLanes>
void launch(const Args& p, unsigned blocks, std::size_t shared_bytes, cudaStream_t stream) {
  const auto kernel = resident_step_kernel<kVec4, kTreeChunks, kLanes>;
  ARTABPFN_CUDA_CHECK(
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared_bytes)));
  kernel<<<blocks, kThreads, shared_bytes, stream>>>(p);
}

// The head-dim classes of row_tile_attention.cu (its Shape<chunks, group, keys>): float4 chunks
// per lane and lanes per row of its q.k.
template <bool kVec4>
void launch_class(const Args& p, int padded_dim, unsigned blocks, std::size_t shared_bytes, cudaStream_t stream) {
  if (padded_dim <= 8) return launch<kVec4, 2, 1>(p, blocks, shared_bytes, stream);
  if (padded_dim <= 16) return launch<kVec4, 4, 1>(p, blocks, shared_bytes, stream);
  if (padded_dim <= 32) return launch<kVec4, 8, 1>(p, blocks, shared_bytes, stream);
  if (padded_dim <= 64) return launch<kVec4, 8, 2>(p, blocks, shared_bytes, stream);
  if (padded_dim <= 128) return launch<kVec4, 8, 4>(p, blocks, shared_bytes, stream);
  return launch<kVec4, 8, 8>(p, blocks, shared_bytes, stream);
}

}  // namespace

const char* resident_stage_name(int stage) {
  static const char* const names[kResidentStages] = {"embed",          "products",      "layer_norm", "append_kv",
                                                     "key_sources",    "scores",        "scan_m",     "probabilities",
                                                     "accumulate",     "merge",         "mixture"};
  return stage >= 0 && stage < kResidentStages ? names[stage] : "?";
}

ResidentPlan plan_resident_decode(int d_model, int n_heads, int d_ff, int components, std::int64_t batch, int group) {
  ResidentPlan plan;
  if (d_model > kResidentMaxWidth || d_ff > kResidentMaxWidth || d_model < 1 || n_heads < 1 || d_model % n_heads != 0) {
    plan.unsupported = "the resident decode step needs d_model and d_ff <= 256 (LayerNorm rows in registers, "
                       "weight tiles of 64 KB)";
    return plan;
  }
  int device = 0, sms = 0, optin = 0;
  ARTABPFN_CUDA_CHECK(cudaGetDevice(&device));
  ARTABPFN_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  ARTABPFN_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  int g = group > 0 ? group
                    : static_cast<int>(std::clamp<std::int64_t>((batch + sms - 1) / std::max(sms, 1), 1, kMaxGroup));
  for (; g >= 1; --g) {
    for (int key_chunk : {256, 128, 64, 32, 16, 8, 4}) {
      const std::size_t bytes = sizeof(float) * static_cast<std::size_t>(Layout(2 * g, d_model, n_heads, d_ff, components,
                                                                                key_chunk).total);
      if (bytes <= static_cast<std::size_t>(optin)) {
        plan.group = g;
        plan.key_chunk = key_chunk;
        plan.shared_bytes = bytes;
        return plan;
      }
    }
    if (group > 0) break;  // a forced group size that does not fit
  }
  plan.unsupported = "the resident decode step's shared memory does not fit this model on this GPU";
  return plan;
}

void resident_decode_step(const DecodeModel& model, const DecodeJob& job, const ResidentPlan& plan,
                          cudaStream_t stream) {
  if (plan.group < 1) throw std::invalid_argument("resident_decode_step: no launch plan");
  if (job.batch <= 0) return;
  Args p{model, job, plan.group, plan.key_chunk, 0.f
#ifdef ARTABPFN_MUTATIONS
         , 0
#endif
  };
  const int head_dim = model.d_model / model.n_heads;
  p.scale = 1.0f / std::sqrt(static_cast<float>(head_dim));  // as the attention kernels
#ifdef ARTABPFN_MUTATIONS
  p.ar_shift = (mutation::active() & mutation::kArTokenShift) ? 1 : 0;
#endif
  const std::int64_t blocks = (job.batch + plan.group - 1) / plan.group;
  if (blocks > 2147483647LL) throw std::invalid_argument("resident_decode_step: too many samples for one launch");
  const bool vec4 = model.d_model % 4 == 0 && model.d_ff % 4 == 0 && head_dim % 4 == 0;
  const int padded_dim = (head_dim + 3) / 4 * 4;
  if (vec4) launch_class<true>(p, padded_dim, static_cast<unsigned>(blocks), plan.shared_bytes, stream);
  else launch_class<false>(p, padded_dim, static_cast<unsigned>(blocks), plan.shared_bytes, stream);
  ARTABPFN_CHECK_LAUNCH();
}

}  // namespace artabpfn::kernels
