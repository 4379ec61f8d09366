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

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kPartials = 4;  // partial softmax states per (row, head): row_tile_attention.cu's 4 warps
constexpr float kRescaleThreshold = 8.f;  // as row_tile_attention.cu
constexpr int kMaxGroup = 8;

// Shared-memory layout in floats (each array starts on a 16-byte boundary).
struct Layout {
  int rows, d_model, heads, head_dim, padded_dim, d_ff, mix_width, key_chunk;
  int state_items;  // rows * heads * 4 partials * float4 chunks of the padded head dim
  int state_o, state_m, state_l, x, h, h2, a, t1, t2, big, scores, weights, total;

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

// y[r, o] = act(sum_k x[r, k] W[o, k] + bias[o]) for r < rows, o < n_out; x and y in shared
// memory (row strides x_stride, y_stride), W [n_out, k_count] in global memory.
template <bool kVec4, int kRowsPerItem>
__device__ __forceinline__ void block_linear(const float* x, int x_stride, int rows, const float* __restrict__ w,
                                             const float* __restrict__ bias, bool gelu, int k_count, int n_out,
                                             float* y, int y_stride) {
  const int row_groups = (rows + kRowsPerItem - 1) / kRowsPerItem;
  for (int item = static_cast<int>(threadIdx.x); item < n_out * row_groups; item += kThreads) {
    const int o = item % n_out, r0 = (item / n_out) * kRowsPerItem;
    const float* wr = w + static_cast<std::int64_t>(o) * k_count;
    float acc[kRowsPerItem];
#pragma unroll
    for (int i = 0; i < kRowsPerItem; ++i) acc[i] = 0.0f;
    if constexpr (kVec4) {
      // 8 float4 of W in flight per round trip to L2, then their FMAs in k order.
      constexpr int kBatch = 8;
      for (int k0 = 0; k0 < k_count; k0 += 4 * kBatch) {
        float4 wv[kBatch];
#pragma unroll
        for (int u = 0; u < kBatch; ++u)
          wv[u] = k0 + 4 * u < k_count ? __ldg(reinterpret_cast<const float4*>(wr + k0 + 4 * u))
                                       : make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
        for (int u = 0; u < kBatch; ++u) {
          if (k0 + 4 * u >= k_count) break;
#pragma unroll
          for (int i = 0; i < kRowsPerItem; ++i) {
            if (r0 + i >= rows) break;
            const float4 xv = *reinterpret_cast<const float4*>(x + (r0 + i) * x_stride + k0 + 4 * u);
            acc[i] = fmaf(xv.x, wv[u].x, acc[i]);
            acc[i] = fmaf(xv.y, wv[u].y, acc[i]);
            acc[i] = fmaf(xv.z, wv[u].z, acc[i]);
            acc[i] = fmaf(xv.w, wv[u].w, acc[i]);
          }
        }
      }
    } else {
      for (int k = 0; k < k_count; ++k) {
        const float wv = __ldg(wr + k);
#pragma unroll
        for (int i = 0; i < kRowsPerItem; ++i) {
          if (r0 + i >= rows) break;
          acc[i] = fmaf(x[(r0 + i) * x_stride + k], wv, acc[i]);
        }
      }
    }
#pragma unroll
    for (int i = 0; i < kRowsPerItem; ++i) {
      if (r0 + i >= rows) break;
      float v = acc[i];
      if (bias != nullptr) v = v + bias[o];
      if (gelu) v = detail::gelu_exact(v);
      y[(r0 + i) * y_stride + o] = v;
    }
  }
  __syncthreads();
}

// Up to 4 rows per thread when that still gives every thread an output, else 2 (more threads busy).
template <bool kVec4>
__device__ __forceinline__ void linear_rows(const float* x, int x_stride, int rows, const float* w, const float* bias,
                                            bool gelu, int k_count, int n_out, float* y, int y_stride) {
  if (n_out * ((rows + 3) / 4) >= kThreads)
    block_linear<kVec4, 4>(x, x_stride, rows, w, bias, gelu, k_count, n_out, y, y_stride);
  else
    block_linear<kVec4, 2>(x, x_stride, rows, w, bias, gelu, k_count, n_out, y, y_stride);
}

// out[r] = LN(a[r] + b[r]) * weight + bias for r < rows (b may be null); input row r at
// a + (in_offset + in_step * r) * width. A warp per row with layer_norm.cu's statistics.
__device__ __forceinline__ void block_layer_norm(const float* a, const float* b, int in_offset, int in_step, int rows,
                                                 int width, const float* __restrict__ weight,
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
}

// Component e of float4 chunk `chunk` of a head-dim vector, zero in the padding.
__device__ __forceinline__ float padded(const float* v, int chunk, int e, int head_dim) {
  const int d = 4 * chunk + e;
  return d < head_dim ? v[d] : 0.0f;
}

// q.k as row_tile_attention.cu computes it (see the top of this file), unscaled, for the head-dim
// class (kTreeChunks float4 chunks per lane, kLanes lanes per row): compile-time sizes, so the
// partial sums stay in registers.
template <int kTreeChunks, int kLanes>
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
        float t = padded(q, chunk, 0, head_dim) * padded(k, chunk, 0, head_dim);
        t = fmaf(padded(q, chunk, 1, head_dim), padded(k, chunk, 1, head_dim), t);
        t = fmaf(padded(q, chunk, 2, head_dim), padded(k, chunk, 2, head_dim), t);
        part[c] = fmaf(padded(q, chunk, 3, head_dim), padded(k, chunk, 3, head_dim), t);
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

// Where the keys of one phase are for row r (sample g = r / 2) and head h, and how many it sees.
struct KeySource {
  const float *k, *v;  // key j at k + j * Dh
  int limit;
};

template <bool kBuffer>
__device__ __forceinline__ KeySource key_source(const Args& p, int layer, std::int64_t sample, int h, int t) {
  const int head_dim = p.m.d_model / p.m.n_heads;
  if constexpr (kBuffer) {
    const std::int64_t base = (sample * p.m.n_heads + h) * static_cast<std::int64_t>(p.j.capacity) * head_dim;
    return {p.j.buffer_k[layer] + base, p.j.buffer_v[layer] + base, t};
  } else {
    const std::int32_t task = p.j.task_of_sample[sample];
    const int nc = p.j.context_len[task];
    const std::int64_t base = p.j.context_offset[task] + static_cast<std::int64_t>(h) * nc * head_dim;
    return {p.j.context_k[layer] + base, p.j.context_v[layer] + base, nc};
  }
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
template <bool kBuffer, int kTreeChunks, int kLanes>
__device__ void attention_phase(const Args& p, const Layout& L, float* sm, int layer, std::int64_t b0, int rows,
                                int t) {
  const int H = L.heads, Dh = L.head_dim, chunks_used = L.padded_dim / 4, KC = L.key_chunk;
  const int q_stride = 3 * L.d_model;
  int phase_keys = 0;
  for (int g = 0; g < rows / 2; ++g) phase_keys = max(phase_keys, key_source<kBuffer>(p, layer, b0 + g, 0, t).limit);
  float4* state_o = reinterpret_cast<float4*>(sm + L.state_o);
  float* state_m = sm + L.state_m;
  float* state_l = sm + L.state_l;
  float* prob = sm + L.scores;    // scores, then p
  float* factor = sm + L.weights;  // m before the key, then alpha
  const int keys_items = rows * H * KC, scan_items = rows * H * kPartials, walk_items = scan_items * chunks_used;
  for (int j0 = 0; j0 < phase_keys; j0 += KC) {
    for (int item = static_cast<int>(threadIdx.x); item < keys_items; item += kThreads) {
      const int jj = item % KC, rh = item / KC, h = rh % H, r = rh / H;
      const KeySource src = key_source<kBuffer>(p, layer, b0 + r / 2, h, t);
      const int j = j0 + jj;
      if (j >= src.limit) continue;
      const float* q = sm + L.big + r * q_stride + h * Dh;
      prob[item] = __fmul_rn(tree_dot<kTreeChunks, kLanes>(q, src.k + static_cast<std::int64_t>(j) * Dh, Dh, chunks_used),
                             p.scale);
    }
    __syncthreads();
    for (int item = static_cast<int>(threadIdx.x); item < scan_items; item += kThreads) {
      const int w = item % kPartials, rh = item / kPartials, r = rh / H;
      const int end = min(j0 + KC, key_source<kBuffer>(p, layer, b0 + r / 2, 0, t).limit);
      float m = state_m[item];
      for (int j = j0 + w; j < end; j += kPartials) {
        const int at = rh * KC + (j - j0);
        factor[at] = m;
        const float score = prob[at];
        if (score > m + kRescaleThreshold) m = score;
      }
      state_m[item] = m;
    }
    __syncthreads();
    for (int item = static_cast<int>(threadIdx.x); item < keys_items; item += kThreads) {
      const int jj = item % KC, r = item / KC / H;
      if (j0 + jj >= key_source<kBuffer>(p, layer, b0 + r / 2, 0, t).limit) continue;
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
    for (int item = static_cast<int>(threadIdx.x); item < walk_items; item += kThreads) {
      const int c = item % chunks_used, rest = item / chunks_used, rh = rest / kPartials, w = rest % kPartials;
      const int h = rh % H, r = rh / H;
      const KeySource src = key_source<kBuffer>(p, layer, b0 + r / 2, h, t);
      const int end = min(j0 + KC, src.limit);
      float l = state_l[item];
      float4 o = state_o[item];
      // 8 keys' values in flight per round trip, then their updates in key order.
      constexpr int kBatch = 8;
      for (int first = j0 + w; first < end; first += kPartials * kBatch) {
        float4 v[kBatch];
#pragma unroll
        for (int u = 0; u < kBatch; ++u) {
          const int j = first + kPartials * u;
          const float* value = src.v + static_cast<std::int64_t>(j < end ? j : first) * Dh;
          v[u] = make_float4(padded(value, c, 0, Dh), padded(value, c, 1, Dh), padded(value, c, 2, Dh),
                             padded(value, c, 3, Dh));
        }
#pragma unroll
        for (int u = 0; u < kBatch; ++u) {
          const int j = first + kPartials * u;
          if (j >= end) break;
          const int at = rh * KC + (j - j0);
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
  }
}

// a [rows, D] = fused attention of the q in L.big over the context and buffer rows 0..t-1.
template <int kTreeChunks, int kLanes>
__device__ void block_attention(const Args& p, const Layout& L, float* sm, int layer, std::int64_t b0, int rows,
                                int t) {
  const int chunks_used = L.padded_dim / 4;
  float4* state_o = reinterpret_cast<float4*>(sm + L.state_o);
  for (int item = static_cast<int>(threadIdx.x); item < rows * L.heads * kPartials * chunks_used; item += kThreads) {
    if (item < rows * L.heads * kPartials) sm[L.state_m + item] = -INFINITY;
    sm[L.state_l + item] = 0.f;
    state_o[item] = make_float4(0.f, 0.f, 0.f, 0.f);
  }
  __syncthreads();
  attention_phase<false, kTreeChunks, kLanes>(p, L, sm, layer, b0, rows, t);
  attention_phase<true, kTreeChunks, kLanes>(p, L, sm, layer, b0, rows, t);
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

  for (int layer = 0; layer < m.n_layers; ++layer) {
    const DecodeLayer& w = m.layers[layer];
    linear_rows<kVec4>(sm + L.x, D, rows, w.feature_v, nullptr, false, D, D, sm + L.t1, D);
    linear_rows<kVec4>(sm + L.t1, D, rows, w.feature_out, nullptr, false, D, D, sm + L.t2, D);
    block_layer_norm(sm + L.x, sm + L.t2, 0, 1, rows, D, w.norm1_weight, w.norm1_bias, sm + L.h);
    linear_rows<kVec4>(sm + L.h, D, rows, w.qkv, nullptr, false, D, 3 * D, sm + L.big, 3 * D);
    if (t > 0) {  // buffer row t-1 joins the cache before the step's attention
      for (int i = static_cast<int>(threadIdx.x); i < samples * D; i += kThreads) {
        const int g = i / D, c = i % D, h = c / Dh, d = c % Dh;
        const std::int64_t at = (((b0 + g) * H + h) * job.capacity + (t - 1)) * Dh + d;
        job.buffer_k[layer][at] = sm[L.big + 2 * g * 3 * D + D + c];
        job.buffer_v[layer][at] = sm[L.big + 2 * g * 3 * D + 2 * D + c];
      }
      __syncthreads();  // block barriers order this block's global writes before its reads
    }
    block_attention<kTreeChunks, kLanes>(p, L, sm, layer, b0, rows, t);
    linear_rows<kVec4>(sm + L.a, D, rows, w.out, nullptr, false, D, D, sm + L.t1, D);
    block_layer_norm(sm + L.h, sm + L.t1, 0, 1, rows, D, w.norm2_weight, w.norm2_bias, sm + L.h2);
    linear_rows<kVec4>(sm + L.h2, D, rows, w.ff_in, w.ff_in_bias, true, D, m.d_ff, sm + L.big, m.d_ff);
    linear_rows<kVec4>(sm + L.big, m.d_ff, rows, w.ff_out, w.ff_out_bias, false, m.d_ff, D, sm + L.t1, D);
    block_layer_norm(sm + L.h2, sm + L.t1, 0, 1, rows, D, w.norm3_weight, w.norm3_bias, sm + L.x);
  }

  // Head on the target rows (1, 3, ...): final LayerNorm, two products, the mixture.
  block_layer_norm(sm + L.x, nullptr, 1, 2, samples, D, m.final_norm_weight, m.final_norm_bias, sm + L.h);
  linear_rows<kVec4>(sm + L.h, D, samples, m.head_in, m.head_in_bias, true, D, m.d_ff, sm + L.big, m.d_ff);
  const int K3 = 3 * m.mixture.components;
  linear_rows<kVec4>(sm + L.big, m.d_ff, samples, m.head_out, m.head_out_bias, false, m.d_ff, K3, sm + L.t1, K3);
  for (int g = static_cast<int>(threadIdx.x); g < samples; g += kThreads) {
    const std::int64_t b = b0 + g, at = std::int64_t(t) * job.batch + b;
    const float* r = sm + L.t1 + g * K3;
    if (job.log_density != nullptr)
      job.log_density[at] = detail::mixture_log_density_row(r, m.mixture, job.values[at]);
    else
      job.values[at] = detail::mixture_sample_row(r, m.mixture, job.seed, job.task_id[b], job.sample_index[b],
                                                  static_cast<std::uint32_t>(t)).y;
  }
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

ResidentPlan plan_resident_decode(int d_model, int n_heads, int d_ff, int components, std::int64_t batch, int group) {
  ResidentPlan plan;
  if (d_model > 256 || d_model < 1 || n_heads < 1 || d_model % n_heads != 0) {
    plan.unsupported = "the resident decode step needs d_model <= 256 (a LayerNorm row per warp in registers)";
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
  const bool vec4 = model.weights_aligned16 && model.d_model % 4 == 0 && model.d_ff % 4 == 0;
  const int padded_dim = (head_dim + 3) / 4 * 4;
  if (vec4) launch_class<true>(p, padded_dim, static_cast<unsigned>(blocks), plan.shared_bytes, stream);
  else launch_class<false>(p, padded_dim, static_cast<unsigned>(blocks), plan.shared_bytes, stream);
  ARTABPFN_CHECK_LAUNCH();
}

}  // namespace artabpfn::kernels
