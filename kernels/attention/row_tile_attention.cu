// Row-tiled attention: shared_context_attention, buffer_attention and fused_attention.
//
// What it computes (kernels/attention.hpp, docs/model.md "Who sees whom"): for every query row
// (b, h, i) of q [B, H, Lq, Dh], softmax(q.k / sqrt(Dh)) over the keys the row may see, times v,
// written to out [B, H, Lq, Dh], and the natural-log LSE to lse [B, H, Lq]. A row that sees no
// key gets (0, -inf). float32 FMA throughout: no TF32, no tensor cores, expf/logf, IEEE division.
//
// Variants (one template, three instantiations per head-dim class):
//   context only  (shared_context_attention): keys = context of task task_of_sample[b], head h,
//                 a [Nc_t, Dh] slice of the task's [H, Nc_t, Dh] block at context_offset[t].
//   buffer only   (buffer_attention): keys = sample b's buffer rows [B, H, capacity, Dh], with the
//                 kDecode or kTeacherForcing prefix mask.
//   fused         (fused_attention): context then buffer, one online-softmax state per row,
//                 nothing partial goes through device memory.
//
// Tiling. The query rows of one head are numbered r = b * Lq + i (sample-major). A thread block
// (8 warps, 256 threads) owns M consecutive rows of one head; blocks walk the H * ceil(B*Lq/M)
// tiles with a grid-stride loop over a 1-D grid (any B, H: no 65535 limit). In a warp, G adjacent
// lanes hold one row (G = 2 for Dh <= 32, 4 for Dh <= 64, 8 up to 256), so M = 32 / G. Each
// lane keeps its slice of q and of the output accumulator in registers: float4 chunks
// c = lane_in_row + G * j, j < 4 (8 for Dh > 128, fewer for Dh <= 16), Dh padded with zeros to a
// multiple of 4. All 8 warps hold the same M rows and split the keys: warp w handles keys
// j = w (mod 8) in increasing order with its own online-softmax state (m, l, o); at the end the
// 8 states are merged through shared memory in the fixed order w = 0..7.
//
// Sharing K/V. In each phase (context, then buffer) the rows of a tile are grouped by the K/V
// they read: by task for the context (samples of one task share its context), by sample for the
// buffer. A step stages NB keys of every group of the tile into shared memory (N rows of K and
// of V, N = 128, 64, 32 by head-dim class; NB = N for one group, else N / groups rounded down
// to a multiple of 8, always >= 8 because N >= 8 M), and every row of the tile consumes the keys
// of its own group. A tile whose samples all belong to one task (the common case) thus loads
// each context K/V tile once for all its M rows (M / Lq samples); tiles that mix tasks are
// correct and only load less per step. Rows past B * Lq compute nothing and write nothing.
//
// Occupancy. Every class is compiled for two blocks an SM (up to 128 registers a thread); the
// classes of two lanes a row (Dh <= 32) also for four (64 registers), which a launch of at least
// four tiles an SM takes (attention_blocks_per_sm): there, more than two waves at two blocks an
// SM, twice the warps hide more of the per-key latency; below it the few spills and the longer
// wave cost more than they hide (decode step with every launch on four, H100: -7% at B 2048, -11%
// at B 8192 and 65536, +12% at B 512; bench/engine/NOTES.md, v16). Both instances compute the same
// operations in the same order.
//
// Results are deterministic and batch invariant: a row's arithmetic depends only on its own
// query, its keys and Dh (never on the tile it shares, B, or the other samples), because every
// warp visits its keys one at a time in increasing key order, whatever NB is.
//
// Scores: q.k with an FMA chain of 4 per float4 chunk, a pairwise tree over chunks and lanes,
// times 1/sqrt(Dh) (as the reference). Online softmax per key: if s > m + 8 the state is
// rescaled by exp(m - s), m = s and p = 1, else p = exp(s - m); then l += p, o += p v. (Per-key
// updates keep the result independent of the tiling; the lazy threshold keeps warps converged.)
// K/V tiles are staged with cp.async (16-byte copies where aligned, else 4-byte; all of a step
// in flight). The tile's shared memory is dynamic (67 KB at Dh > 128: opted in once per device).
// With ContextKV::complete_before_previous_kernel a block groups its rows and issues its first
// context step's copies before the PDL wait (kernels/launch.cuh), overlapping that load with the
// end of the previous kernel. Each head-dim class is also compiled for exactly its widest Dh
// (constant strides, no partial chunks); the epilogue's merge is spread over the whole block.
//
// Why this design (cp.async staging, lazy rescaling, 8 warps a tile, 2-8 lanes a row, the
// all-thread merge, exact-Dh instances, the context prefetch; and what was measured slower): the
// measurements are in bench/engine/NOTES.md; measured error ratios in docs/accuracy.md, "The
// tolerance rule".
//
// The online softmax (scores, per-key update, merge, normalisation) is online_softmax.cuh's, the
// one definition every float32 attention path uses. The mutation tests' fault hooks
// (kernels/fault_hooks.cuh) are identities here except in the conformance mutant build.
#include <cuda_pipeline.h>
#include <cuda_runtime.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/alignment.hpp"
#include "kernels/attention.hpp"
#include "kernels/attention/arguments.hpp"
#include "kernels/attention/buffer_visibility.cuh"
#include "kernels/attention/online_softmax.cuh"
#include "kernels/cuda_check.hpp"
#include "kernels/fault_hooks.cuh"
#include "kernels/launch.cuh"

namespace artabpfn::kernels {
namespace {

// 8 warps split the keys of a tile: at small B (the decode step at B 256 is 128 tiles for 132
// SMs) a tile's latency is its longest warp's key walk, so more warps per tile shorten it; at
// large B two such blocks per SM overlap one tile's latencies with another's (NOTES.md, v3).
constexpr int kWarps = 8;
constexpr int kThreads = 32 * kWarps;
constexpr int kScoreBatch = 4;  // dot products in flight per warp before the softmax updates

// The launch's arguments; its base holds the fault hooks (kernels/fault_hooks.cuh: empty but in the
// conformance mutant build).
struct Params : FaultHooks {
  __host__ __device__ const FaultHooks& faults() const { return *this; }
  const float* __restrict__ q;
  float* __restrict__ out;
  float* __restrict__ lse;
  int batch, heads, queries, head_dim, padded_dim;
  float scale;
  std::int64_t rows_per_head;  // batch * queries
  std::int64_t tiles;          // heads * ceil(rows_per_head / M)
  // context
  const float* __restrict__ context_k;
  const float* __restrict__ context_v;
  const std::int64_t* __restrict__ context_offset;
  const std::int32_t* __restrict__ context_len;
  const std::int32_t* __restrict__ task_of_sample;
  // buffer
  const float* __restrict__ buffer_k;
  const float* __restrict__ buffer_v;
  int capacity, length;
  bool teacher_forcing;
  const int* __restrict__ device_length;  // decode: read the length here when set
  std::int64_t q_row_stride;              // 0: [B, H, Lq, Dh]; else rows layout (QueryBlock)
  bool out_rows;                          // rows layout of out and lse (AttentionOut)
  // Dh % 4 == 0 and the K/V pointers 16-byte aligned: rows whose offset is a multiple of 4 floats
  // are staged with 16-byte copies (per phase: the context and the buffer are separate arrays).
  bool context_vector, buffer_vector;
  bool context_prefetch;  // ContextKV::complete_before_previous_kernel
};

// kExact: compiled for Dh == max_dim only (no partial chunks, constant strides and loop bounds).
template <int kChunks, int kGroup, int kKeys, bool kExact = false>
struct Shape {
  static constexpr bool exact = kExact;
  static constexpr int chunks = kChunks;     // float4 chunks per lane
  static constexpr int group = kGroup;       // lanes per query row
  static constexpr int rows = 32 / kGroup;   // query rows per block (M)
  static constexpr int keys = kKeys;         // K (and V) rows staged per step (N)
  static constexpr int max_dim = 4 * kChunks * kGroup;
  static constexpr int max_stride = max_dim + 4;  // +4 floats: rows of different groups hit different banks
  static_assert(kKeys >= kWarps * (32 / kGroup), "a step must give every group at least one key per warp");
  static_assert(kKeys % kWarps == 0, "keys are split over the warps");
  static_assert(kWarps * (32 / kGroup) * max_dim <= kKeys * max_stride, "merge scratch must fit in the K tile");
};

template <class S>
struct Smem {
  float k[S::keys * S::max_stride];
  float v[S::keys * S::max_stride];
  std::int64_t group_base[S::rows];  // element offset of key 0 of (group, head h)
  int group_keys[S::rows];           // keys any row of the group sees
  int row_group[S::rows];            // group of each row in this phase, -1 for rows past the end
  int row_limit[S::rows];
  bool group_vector[S::rows];  // the group's K/V rows start 16-byte aligned: float4 copies
  int group_count, phase_keys;
};

// Which part of a phase run_phase does: all of it, or (context K/V staged before the wait for
// the previous kernel) the grouping and the first step's copies, then the rest.
enum class PhasePart { kWhole, kFirstCopies, kAfterFirstCopies };

// One phase (context or buffer) of one tile: groups rows by K/V source, then streams the keys.
template <class S, bool kBuffer>
__device__ __forceinline__ void run_phase(const Params& p, Smem<S>& sm, detail::RowState<S::chunks>& st, int h,
                                          std::int64_t tile_row0, PhasePart part = PhasePart::kWhole) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int row = lane / S::group, lane_in_row = lane % S::group;
  const int head_dim = S::exact ? S::max_dim : p.head_dim;
  const int padded_dim = S::exact ? S::max_dim : p.padded_dim;
  const float* __restrict__ kbase = kBuffer ? p.buffer_k : p.context_k;
  const float* __restrict__ vbase = kBuffer ? p.buffer_v : p.context_v;

  if (part != PhasePart::kAfterFirstCopies) __syncthreads();  // the previous phase is done with smem
  if (warp == 0 && part != PhasePart::kAfterFirstCopies) {
    // Lane r describes row r of the tile: its K/V source (group), where the source starts, how
    // many of its keys the row sees (limit) and how many rows of it are staged for the row.
    // Lanes of one group agree on the group id.
    const std::int64_t r = tile_row0 + lane;
    const bool valid = lane < S::rows && r < p.rows_per_head;
    unsigned long long id = ~0ull;
    std::int64_t base = 0;
    int limit = 0, staged = 0;
    if (valid) {
      const std::int64_t b = r / p.queries;
      const int i = static_cast<int>(r - b * p.queries);
      if constexpr (kBuffer) {
        id = static_cast<unsigned long long>(b);
        base = ((b * p.heads + h) * static_cast<std::int64_t>(p.capacity)) * head_dim;
        const int visible = detail::visible_buffer_rows(p.teacher_forcing, p.length, p.device_length, i);
        limit = p.faults().buffer_rows_seen(visible, p.teacher_forcing, p.length, i);
        staged = p.faults().staged_rows(limit, p.teacher_forcing ? p.length : visible);
      } else {
        const std::int32_t t = p.task_of_sample[p.faults().context_sample(b)];
        const int nc = p.context_len[t];
        id = static_cast<unsigned long long>(t);
        base = p.context_offset[t] + static_cast<std::int64_t>(h) * nc * head_dim;
        limit = p.faults().context_rows_seen(nc);
        staged = p.faults().staged_rows(limit, nc);
      }
    }
    const unsigned peers = __match_any_sync(0xffffffffu, id);
    const int leader = __ffs(static_cast<int>(peers)) - 1;
    const bool is_leader = valid && leader == lane;
    const unsigned leaders = __ballot_sync(0xffffffffu, is_leader);
    const int group = __popc(leaders & ((1u << leader) - 1u));  // leaders are numbered in lane order
    if (is_leader) {
      sm.group_base[group] = base;
      sm.group_keys[group] = 0;
      sm.group_vector[group] = (kBuffer ? p.buffer_vector : p.context_vector) && base % 4 == 0;
    }
    __syncwarp();
    if (valid) atomicMax(&sm.group_keys[group], staged);
    if (lane < S::rows) {
      sm.row_group[lane] = valid ? group : -1;
      sm.row_limit[lane] = limit;
    }
    const int phase_keys = __reduce_max_sync(0xffffffffu, static_cast<unsigned>(staged));
    if (lane == 0) {
      sm.group_count = __popc(leaders);
      sm.phase_keys = phase_keys;
    }
  }
  if (part != PhasePart::kAfterFirstCopies) __syncthreads();
  const int groups = sm.group_count, phase_keys = sm.phase_keys;
  const int my_group = sm.row_group[row], my_limit = sm.row_limit[row];
  if (groups == 0 || phase_keys == 0) return;  // uniform over the block
  // NB >= kWarps because keys >= kWarps * rows >= kWarps * groups.
  const int per_group = S::keys / groups / kWarps * kWarps;
  const int staged = groups * per_group;
  const int per_warp = per_group / kWarps;  // keys of one group that one warp handles per step
  const int stride = padded_dim + 4;
  const int row_x0 = (my_group < 0 ? 0 : my_group) * per_group + warp;  // my group's rows in smem
  const bool active = my_group >= 0;
  const int chunks_used = padded_dim / 4;
  // Loader mapping: `lanes_per_row` lanes copy one K/V row (Dh contiguous floats, coalesced), a
  // float4 each per pass where the row is 16-byte aligned, else a float each.
  int lanes_per_row = 1;
  while (lanes_per_row < 32 && 4 * lanes_per_row < padded_dim) lanes_per_row *= 2;
  const int rows_per_pass = 32 / lanes_per_row;
  // This thread's first staging row of a step, as (group, slot): the same in every step.
  const int first_x = warp * rows_per_pass + lane / lanes_per_row;
  const int first_g = first_x / per_group, first_slot = first_x - first_g * per_group;

  for (int j0 = 0; j0 < phase_keys; j0 += per_group) {
    if (j0 != 0 || part != PhasePart::kAfterFirstCopies) {  // (else issued before the wait)
      __syncthreads();  // everyone is done reading the previous step
      // Asynchronous copies (cp.async): all of a step's loads are in flight at once, with no
      // register staging; 16-byte copies where the group's rows are aligned, else 4-byte ones (no
      // alignment requirement on context_offset or Dh).
      int g = first_g, slot = first_slot;  // x = g * per_group + slot
      for (int x = first_x; x < staged; x += kWarps * rows_per_pass) {
        const int j = j0 + slot;
        const bool has = j < sm.group_keys[g];
        const std::int64_t src = sm.group_base[g] + static_cast<std::int64_t>(j) * head_dim;
        float* k_dst = sm.k + x * stride;
        float* v_dst = sm.v + x * stride;
        if (!has) {
          for (int d = lane % lanes_per_row; d < head_dim; d += lanes_per_row) k_dst[d] = v_dst[d] = 0.f;
        } else if (sm.group_vector[g]) {
          for (int d = 4 * (lane % lanes_per_row); d < head_dim; d += 4 * lanes_per_row) {
            __pipeline_memcpy_async(k_dst + d, kbase + src + d, 4 * sizeof(float));
            __pipeline_memcpy_async(v_dst + d, vbase + src + d, 4 * sizeof(float));
          }
        } else {
          for (int d = lane % lanes_per_row; d < head_dim; d += lanes_per_row) {
            __pipeline_memcpy_async(k_dst + d, kbase + src + d, sizeof(float));
            __pipeline_memcpy_async(v_dst + d, vbase + src + d, sizeof(float));
          }
        }
        for (slot += kWarps * rows_per_pass; slot >= per_group; slot -= per_group) ++g;
      }
      __pipeline_commit();
      if (part == PhasePart::kFirstCopies) return;
    }
    __pipeline_wait_prior(0);
    __syncthreads();
    if constexpr (!kBuffer) p.faults().staged_context_keys(sm.k, sm.v, staged * stride);
    // Warp `warp` takes keys j0 + warp + kWarps u, u < per_warp, in increasing order; my row sees
    // the first my_keys of them (those below its limit). Batches no row of the warp sees are skipped.
    const int unseen = my_limit - j0 - warp;
    const int my_keys = active && unseen > 0 ? min(per_warp, (unseen + kWarps - 1) / kWarps) : 0;
    const int warp_keys = static_cast<int>(__reduce_max_sync(0xffffffffu, static_cast<unsigned>(my_keys)));
    for (int u0 = 0; u0 < warp_keys; u0 += kScoreBatch) {
      float s[kScoreBatch];
#pragma unroll
      for (int k = 0; k < kScoreBatch; ++k) {
        const int u = min(u0 + k, per_warp - 1);
        const float* key = sm.k + (row_x0 + kWarps * u) * stride;
        s[k] = p.faults().kept_score(
            detail::row_score<S::chunks, S::group>(st.q, key, lane_in_row, chunks_used, p.scale));
      }
#pragma unroll
      for (int k = 0; k < kScoreBatch; ++k) {
        const int u = u0 + k;
        if (u >= my_keys) continue;
        const float* value = sm.v + (row_x0 + kWarps * u) * stride;
        detail::add_key<S::chunks, S::group>(
            st, s[k], lane_in_row, chunks_used,
            [&](int c) { return *reinterpret_cast<const float4*>(value + 4 * (lane_in_row + S::group * c)); },
            [&](float w) { return kBuffer ? w : p.faults().context_weight(w); },
            [&](float alpha) { return p.faults().output_factor(alpha); });
        p.faults().updated_state(st.o, st.l);
      }
    }
  }
}

// Index of query row r = b * Lq + i of head h in out's rows ([B, H, Lq] order, or [B, Lq, H] order
// when out_rows); the Dh outputs start at that index times Dh, the LSE at the index.
__device__ __forceinline__ std::int64_t output_row(const Params& p, std::int64_t r, int h) {
  const std::int64_t b = r / p.queries;
  const std::int64_t i = r - b * p.queries;
  return p.out_rows ? r * p.heads + h : (b * p.heads + h) * p.queries + i;
}

template <class S, bool kContext, bool kBuffer, int kBlocksPerSm>
__global__ void __launch_bounds__(kThreads, kBlocksPerSm) row_tile_attention(const Params p) {
  // With context_prefetch the block's first context keys are staged before the wait (below).
  const bool prefetch = kContext && p.context_prefetch;
  if (!prefetch) detail::start_after_previous_kernel();
  extern __shared__ __align__(16) unsigned char smem_bytes[];  // one Smem<S> (over 48 KB: dynamic)
  Smem<S>& sm = *reinterpret_cast<Smem<S>*>(smem_bytes);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int row = lane / S::group, lane_in_row = lane % S::group;
  const int head_dim = S::exact ? S::max_dim : p.head_dim;
  const int padded_dim = S::exact ? S::max_dim : p.padded_dim;
  const int chunks_used = padded_dim / 4;

  for (std::int64_t tile = blockIdx.x; tile < p.tiles; tile += gridDim.x) {
    const int h = static_cast<int>(tile % p.heads);
    const std::int64_t tile_row0 = (tile / p.heads) * S::rows;
    __syncthreads();  // the previous tile's epilogue is done with the shared arrays
    // Zero the padding columns [Dh, padded_dim) of the staging rows: q is zero there too, and a
    // stale NaN would poison 0 * pad.
    if (padded_dim != head_dim)
      for (int x = threadIdx.x; x < S::keys; x += kThreads)
        for (int d = head_dim; d < padded_dim; ++d) {
          sm.k[x * (padded_dim + 4) + d] = 0.f;
          sm.v[x * (padded_dim + 4) + d] = 0.f;
        }
    detail::RowState<S::chunks> st;
    const bool prefetched = prefetch && tile == blockIdx.x;
    if (prefetched) {  // the grouping and the first context step's copies, then the wait
      run_phase<S, false>(p, sm, st, h, tile_row0, PhasePart::kFirstCopies);
      detail::start_after_previous_kernel();
    }

    const std::int64_t r = tile_row0 + row;
    const bool valid = r < p.rows_per_head;
    const float* q_src = p.q;  // this row's Dh query values
    if (valid) {
      const std::int64_t b = r / p.queries;
      const std::int64_t i = r - b * p.queries;
      q_src = p.q_row_stride > 0 ? p.q + (b * p.queries + i) * p.q_row_stride + static_cast<std::int64_t>(h) * head_dim
                                 : p.q + ((b * p.heads + h) * p.queries + i) * head_dim;
    }
    st.m = -INFINITY;
    st.l = 0.f;
#pragma unroll
    for (int c = 0; c < S::chunks; ++c) {
      const int d0 = 4 * (lane_in_row + S::group * c);
      float e[4];
#pragma unroll
      for (int t = 0; t < 4; ++t)
        e[t] = valid && d0 + t < head_dim ? q_src[d0 + t] : 0.f;
      st.q[c] = make_float4(e[0], e[1], e[2], e[3]);
      st.o[c] = make_float4(0.f, 0.f, 0.f, 0.f);
    }

    if constexpr (kContext) {
      const auto plain_q = p.faults().context_phase_queries(st.q);
      run_phase<S, false>(p, sm, st, h, tile_row0, prefetched ? PhasePart::kAfterFirstCopies : PhasePart::kWhole);
      p.faults().restore_queries(plain_q, st.q);
    }
    if constexpr (kBuffer) run_phase<S, true>(p, sm, st, h, tile_row0);

    // Epilogue: merge the warps' states of each row (fixed order), normalise, store. Every thread
    // of the block takes (row, float4 chunk) items; each item repeats its row's max and sum (the
    // same operations in the same order, so the same bits) instead of one warp doing all rows.
    __syncthreads();
    float* part_o = sm.k;  // [warp][row][max_dim]
    float* part_m = sm.v;  // [warp][row]
    float* part_l = sm.v + kWarps * S::rows;
    detail::store_warp_state<S::chunks, S::group>(part_m, part_l, part_o, S::rows, row, warp, S::max_dim, lane_in_row,
                                                  chunks_used, st.o, st.m, st.l);
    __syncthreads();
    for (int item = threadIdx.x; item < S::rows * chunks_used; item += kThreads) {
      const int item_row = item / chunks_used, chunk = item - item_row * chunks_used;
      if (tile_row0 + item_row >= p.rows_per_head) continue;
      float l;
      float4 acc;
      const float m =
          detail::merge_warp_states<kWarps>(part_m, part_l, part_o, S::rows, item_row, S::max_dim, chunk, l, acc);
      const std::int64_t out_row = output_row(p, tile_row0 + item_row, h);
      float* dst = p.out + out_row * head_dim + 4 * chunk;
      const float e[4] = {acc.x, acc.y, acc.z, acc.w};
#pragma unroll
      for (int t = 0; t < 4; ++t)
        if (4 * chunk + t < head_dim) {
          const float value = detail::normalised(e[t], m, l);
          dst[t] = kContext && !kBuffer ? p.faults().context_only_output(value, m) : value;
        }
      if (chunk == 0)  // (part_m[item_row]: warp 0's max, the first of the row's key partitions)
        p.lse[out_row] = p.faults().stored_lse(detail::row_lse(p.faults().lse_max(m, part_m[item_row]), l));
    }
  }
}

// Head-dim classes: (float4 chunks per lane, lanes per row, staged keys). Rows per tile (M) =
// 32 / lanes per row; staged keys >= 8 warps x M (one key per warp for every group of a tile).
using ShapeD8 = Shape<1, 2, 128>;
using ShapeD16 = Shape<2, 2, 128>;
using ShapeD32 = Shape<4, 2, 128>;
using ShapeD64 = Shape<4, 4, 64>;
using ShapeD128 = Shape<4, 8, 32>;
using ShapeD256 = Shape<8, 8, 32>;

// The tiles of a launch: row tiles of `rows` query rows, for every head.
std::int64_t tile_count(std::int64_t rows_per_head, int rows, int heads) {
  return (rows_per_head + rows - 1) / rows * heads;
}

// Which classes also have an instance of four blocks an SM (see "Occupancy" above).
constexpr bool has_four_block_instance(int group) { return group == 2; }

// The blocks an SM of the instance a launch of `tiles` blocks of a class takes: four where the
// class has that instance and the launch has at least four tiles an SM of the current device.
int blocks_per_sm(int group, std::int64_t tiles) {
  if (!has_four_block_instance(group)) return 2;
  int device = 0, sms = 0;
  ARTABPFN_CUDA_CHECK(cudaGetDevice(&device));
  ARTABPFN_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  return tiles >= 4 * static_cast<std::int64_t>(sms) ? 4 : 2;
}

template <class S, bool kContext, bool kBuffer>
auto kernel_for(std::int64_t tiles) {
  if constexpr (has_four_block_instance(S::group))
    if (blocks_per_sm(S::group, tiles) == 4) return row_tile_attention<S, kContext, kBuffer, 4>;
  return row_tile_attention<S, kContext, kBuffer, 2>;
}

template <class S, bool kContext, bool kBuffer>
void launch_shape(const Params& p, cudaStream_t stream) {
  Params q = p;
  const std::int64_t row_tiles = tile_count(p.rows_per_head, S::rows, 1);
  q.tiles = p.faults().launched_row_tiles(row_tiles) * p.heads;
  const std::int64_t grid = q.tiles < INT_MAX ? q.tiles : INT_MAX;
  const auto kernel = kernel_for<S, kContext, kBuffer>(q.tiles);
  detail::allow_shared_memory_once(kernel, sizeof(Smem<S>));
  detail::launch(kernel, static_cast<unsigned>(grid), kThreads, sizeof(Smem<S>), stream, q);
}

// A head-dim class, compiled for exactly its widest Dh where Dh is that (8, 16, ..., 256: the usual
// head dims), else for any Dh of the class. Both compute the same operations in the same order.
template <class S, bool kContext, bool kBuffer>
void launch_class(const Params& p, cudaStream_t stream) {
  if (p.head_dim == S::max_dim) return launch_shape<Shape<S::chunks, S::group, S::keys, true>, kContext, kBuffer>(p, stream);
  launch_shape<S, kContext, kBuffer>(p, stream);
}

template <bool kContext, bool kBuffer>
void dispatch(const Params& p, cudaStream_t stream) {
  if (p.padded_dim <= 8) return launch_class<ShapeD8, kContext, kBuffer>(p, stream);
  if (p.padded_dim <= 16) return launch_class<ShapeD16, kContext, kBuffer>(p, stream);
  if (p.padded_dim <= 32) return launch_class<ShapeD32, kContext, kBuffer>(p, stream);
  if (p.padded_dim <= 64) return launch_class<ShapeD64, kContext, kBuffer>(p, stream);
  if (p.padded_dim <= 128) return launch_class<ShapeD128, kContext, kBuffer>(p, stream);
  return launch_class<ShapeD256, kContext, kBuffer>(p, stream);
}

constexpr const char* kWhat = "attention";

// Validates the query block and output, fills the common fields; false when there is no work.
bool common_params(const QueryBlock& q, const AttentionOut& out, Params& p) {
  const bool work = detail::check_queries(q, out, kWhat) > 0;
  p = Params{};
  static_cast<FaultHooks&>(p) = FaultHooks::at_launch();
  p.q = q.q;
  p.out = out.out;
  p.lse = out.lse;
  p.batch = q.batch;
  p.heads = q.heads;
  p.queries = q.queries;
  p.head_dim = q.head_dim;
  p.padded_dim = (q.head_dim + 3) / 4 * 4;
  p.scale = p.faults().score_scale(1.0f / std::sqrt(static_cast<float>(q.head_dim)));  // as reference::attend<float>
  p.rows_per_head = static_cast<std::int64_t>(q.batch) * q.queries;
  p.q_row_stride = q.row_stride;
  p.out_rows = out.rows_layout;
  return work;
}

bool aligned_rows(int head_dim, const float* k, const float* v) {
  return head_dim % 4 == 0 && detail::aligned_16(k) && detail::aligned_16(v);
}

void context_params(const ContextKV& context, Params& p) {
  detail::check_context(context, kWhat);
  p.context_k = context.k;
  p.context_v = context.v;
  p.context_vector = aligned_rows(p.head_dim, context.k, context.v);
  p.context_prefetch = context.complete_before_previous_kernel;
  p.context_offset = context.context_offset;
  p.context_len = context.context_len;
  p.task_of_sample = context.task_of_sample;
}

void buffer_params(const QueryBlock& q, const BufferKV& buffer, Params& p) {
  detail::check_buffer(q, buffer, kWhat);
  p.buffer_k = buffer.k;
  p.buffer_v = buffer.v;
  p.buffer_vector = aligned_rows(p.head_dim, buffer.k, buffer.v);
  p.capacity = buffer.capacity;
  p.length = buffer.length;
  p.teacher_forcing = buffer.mask == BufferMask::kTeacherForcing;
  p.device_length = buffer.device_length;
}

}  // namespace

int attention_rows_per_block(int head_dim) {
  const int padded = (head_dim + 3) / 4 * 4;
  if (padded <= 32) return ShapeD32::rows;
  if (padded <= 64) return ShapeD64::rows;
  if (padded <= 128) return ShapeD128::rows;
  return ShapeD256::rows;
}

int attention_blocks_per_sm(int head_dim, std::int64_t rows_per_head, int heads) {
  const int rows = attention_rows_per_block(head_dim);
  return blocks_per_sm(32 / rows, tile_count(rows_per_head, rows, heads));  // Shape::rows = 32 / group
}

void shared_context_attention(const QueryBlock& q, const ContextKV& context, const AttentionOut& out,
                              cudaStream_t stream) {
  Params p;
  if (!common_params(q, out, p)) return;
  context_params(context, p);
  dispatch<true, false>(p, stream);
}

void buffer_attention(const QueryBlock& q, const BufferKV& buffer, const AttentionOut& out, cudaStream_t stream) {
  Params p;
  const bool work = common_params(q, out, p);
  buffer_params(q, buffer, p);
  if (work) dispatch<false, true>(p, stream);
}

void fused_attention(const QueryBlock& q, const ContextKV& context, const BufferKV& buffer, const AttentionOut& out,
                     cudaStream_t stream) {
  Params p;
  const bool work = common_params(q, out, p);
  buffer_params(q, buffer, p);
  if (!work) return;
  context_params(context, p);
  dispatch<true, true>(p, stream);
}

}  // namespace artabpfn::kernels
