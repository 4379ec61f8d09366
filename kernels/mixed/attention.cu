// mixed::attention (kernels/mixed.hpp): one warp per query row (b, h, i), its q in shared memory
// (double). Keys are visited 32 at a time, the context of task task_of_sample[b] first, then the
// sample's buffer rows up to the row's limit (kernels/attention.hpp), with one online softmax
// state in double:
//   lane j scores key j0 + j: s_j = (q.k) / sqrt(Dh), an fma chain over d = 0..Dh-1
//   m' = max(m, max_j s_j) and l = l exp(m - m') + sum_j exp(s_j - m') (butterflies over lane
//   offsets 16..1), o = o exp(m - m') + sum_j exp(s_j - m') v_j, lane l adding for its own
//   components d = l + 32 c in ascending j
// out = o / l and lse = m + log(l), each rounded once to float32. The order depends on the key
// count and Dh only: deterministic and batch invariant. Where a block's 8 rows share (b, h) (the
// teacher-forcing pass: 2 Nt rows a sample and head) each step's keys are staged once in shared
// memory for the block, as doubles; else each warp reads them from global memory, in the same
// order (the same values: float32 to double is exact). A lane per key, not the lanes over d, so
// that each lane evaluates one double exp a key instead of every lane the same two
// (bench/engine/NOTES.md, "Source history of the attention kernels").
//
// This update is its own, not online_softmax.cuh's: it is in double, over a block of 32 keys at a
// time (a max over the block, one rescale a block), where the float32 paths update key by key.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/attention/arguments.hpp"
#include "kernels/attention/buffer_visibility.cuh"
#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"
#include "kernels/layer/device_math.cuh"
#include "kernels/mixed.hpp"

namespace artabpfn::kernels::mixed {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

struct Job {
  QueryBlock q;
  ContextKV context;  // context.k == nullptr: no context keys
  BufferKV buffer;
  AttentionOut out;
  double scale;
};

// kPerLane: output components a lane holds (d = lane + 32 c, c < kPerLane), ceil(Dh / 32)
// rounded up to a power of two, so that no lane steps through components past Dh.
template <int kPerLane>
struct State {
  double m = -INFINITY, l = 0.0;
  double o[kPerLane] = {};
};

using detail::warp_sum;

__device__ __forceinline__ double warp_max(double s) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) s = fmax(s, __shfl_xor_sync(0xffffffffu, s, offset));
  return s;
}

// q . k over d = 0..dh-1 (q in shared memory); k float32 (global memory: 16-byte loads where
// `vector`) or already double (staged).
__device__ __forceinline__ double dot(const double* q, const double* k, int dh, bool) {
  double sum = 0.0;
  for (int d = 0; d < dh; ++d) sum = fma(q[d], k[d], sum);
  return sum;
}

__device__ __forceinline__ double dot(const double* q, const float* k, int dh, bool vector) {
  double sum = 0.0;
  if (vector) {
    for (int d = 0; d < dh; d += 4) {
      const float4 kv = *reinterpret_cast<const float4*>(k + d);
      sum = fma(q[d], double(kv.x), sum);
      sum = fma(q[d + 1], double(kv.y), sum);
      sum = fma(q[d + 2], double(kv.z), sum);
      sum = fma(q[d + 3], double(kv.w), sum);
    }
  } else {
    for (int d = 0; d < dh; ++d) sum = fma(q[d], double(k[d]), sum);
  }
  return sum;
}

// One step of n <= 32 keys: lane j's key row at k + j * stride, value row j at v + j * stride
// (T: float in global memory, or double staged in shared memory: the same values).
template <int kPerLane, class T>
__device__ __forceinline__ void step(const T* k, const T* v, std::int64_t stride, int n, const double* q,
                                     int lane, int dh, double scale, bool vector, State<kPerLane>& st) {
  const double s = lane < n ? dot(q, k + lane * stride, dh, vector) * scale : -INFINITY;
  const double m = fmax(st.m, warp_max(s));  // finite: the step has a key
  const double keep = exp(st.m - m);         // 0 on the first step (m = -inf)
  const double p = exp(s - m);               // 0 for the lanes past the keys
  st.l = st.l * keep + warp_sum(p);
#pragma unroll
  for (int c = 0; c < kPerLane; ++c) st.o[c] *= keep;
  for (int j = 0; j < n; ++j) {
    const double pj = __shfl_sync(0xffffffffu, p, j);
    const T* vr = v + j * stride;
#pragma unroll
    for (int c = 0; c < kPerLane; ++c) {
      const int d = lane + 32 * c;
      if (d < dh) st.o[c] = fma(pj, double(vr[d]), st.o[c]);
    }
  }
  st.m = m;
}

// Folds key rows [0, count) of k, v (global memory, row stride Dh) into one warp's state.
template <int kPerLane>
__device__ void visit(const float* k, const float* v, int count, const double* q, int lane, int dh, double scale,
                      State<kPerLane>& st) {
  const bool vector = dh % 4 == 0 && reinterpret_cast<std::uintptr_t>(k) % 16 == 0;  // every row then is
  for (int j0 = 0; j0 < count; j0 += 32)
    step(k + std::int64_t(j0) * dh, v + std::int64_t(j0) * dh, dh, min(32, count - j0), q, lane, dh, scale, vector, st);
}

// The same steps for a block whose warps all read these keys: each step's 32 key and value rows
// are copied once into shared memory as doubles (ks, vs, row stride `stride`) for all 8 warps, so
// each value is converted once a block, not once a warp; a warp folds the first `count` of the
// block's `block_count` keys. Every thread must call it.
template <int kPerLane>
__device__ void visit_staged(const float* k, const float* v, int block_count, int count, double* ks, double* vs,
                             int stride, const double* q, int lane, int dh, double scale, State<kPerLane>& st) {
  for (int j0 = 0; j0 < block_count; j0 += 32) {
    const int n = min(32, block_count - j0);
    __syncthreads();  // the previous step's reads are done
    for (int e = static_cast<int>(threadIdx.x); e < n * dh; e += kThreads) {
      const int j = e / dh, d = e - j * dh;
      ks[j * stride + d] = double(k[std::int64_t(j0) * dh + e]);
      vs[j * stride + d] = double(v[std::int64_t(j0) * dh + e]);
    }
    __syncthreads();
    if (j0 < count) step(ks, vs, stride, min(32, count - j0), q, lane, dh, scale, false, st);
  }
}

// Shared-memory row stride of the staged keys, in doubles: lane j reads row j, and an odd stride
// puts the 16 rows a half-warp reads in 16 different bank pairs.
__host__ __device__ constexpr int staged_stride(int dh) { return dh % 2 == 0 ? dh + 1 : dh; }

__device__ __forceinline__ int buffer_limit(const BufferKV& buf, int i) {
  return detail::visible_buffer_rows(buf.mask == BufferMask::kTeacherForcing, buf.length, buf.device_length, i);
}

template <int kPerLane>
__global__ void __launch_bounds__(kThreads) attention_kernel(Job job) {
  __shared__ double q_rows[kWarps][32 * kPerLane];
  extern __shared__ double staged[];  // two [32, stride] tiles, K then V
  detail::start_after_previous_kernel();
  const QueryBlock& q = job.q;
  const int lane = static_cast<int>(threadIdx.x % 32), warp = static_cast<int>(threadIdx.x / 32);
  const std::int64_t rows = std::int64_t(q.batch) * q.heads * q.queries;
  const std::int64_t first = std::int64_t(blockIdx.x) * kWarps, last = min(first + kWarps, rows) - 1;
  // Rows (b, h, i) with i fastest: a block whose rows share (b, h) reads the same keys.
  const bool together = first / q.queries == last / q.queries;
  const std::int64_t row = first + warp;
  const bool active = row <= last;
  if (!together && !active) return;  // the whole warp leaves together
  const std::int64_t at_row = active ? row : last;
  const int i = static_cast<int>(at_row % q.queries);
  const int h = static_cast<int>((at_row / q.queries) % q.heads);
  const int b = static_cast<int>(at_row / (std::int64_t(q.queries) * q.heads));
  const int dh = q.head_dim;
  const float* qr = q.row_stride > 0 ? q.q + (std::int64_t(b) * q.queries + i) * q.row_stride + std::int64_t(h) * dh
                                     : q.q + ((std::int64_t(b) * q.heads + h) * q.queries + i) * dh;
  double* qs = q_rows[warp];
  for (int d = lane; d < dh; d += 32) qs[d] = double(qr[d]);
  __syncwarp();
  State<kPerLane> st;
  const BufferKV& buf = job.buffer;
  const int limit = active ? buffer_limit(buf, i) : 0;
  const int stride = staged_stride(dh);
  double* ks = staged;
  double* vs = ks + 32 * stride;
  if (job.context.k != nullptr) {
    const int task = job.context.task_of_sample[b];
    const int nc = job.context.context_len[task];
    const std::int64_t at = job.context.context_offset[task] + std::int64_t(h) * nc * dh;
    if (together)
      visit_staged(job.context.k + at, job.context.v + at, nc, active ? nc : 0, ks, vs, stride, qs, lane, dh, job.scale, st);
    else
      visit(job.context.k + at, job.context.v + at, nc, qs, lane, dh, job.scale, st);
  }
  const std::int64_t at = (std::int64_t(b) * q.heads + h) * buf.capacity * dh;
  if (together) {
    int block_limit = 0;  // the most buffer keys a row of the block sees
    for (std::int64_t r = first; r <= last; ++r) block_limit = max(block_limit, buffer_limit(buf, int(r % q.queries)));
    if (block_limit > 0) visit_staged(buf.k + at, buf.v + at, block_limit, limit, ks, vs, stride, qs, lane, dh, job.scale, st);
  } else if (limit > 0) {
    visit(buf.k + at, buf.v + at, limit, qs, lane, dh, job.scale, st);
  }
  if (!active) return;
  const AttentionOut& out = job.out;
  const std::int64_t out_row = out.rows_layout ? (std::int64_t(b) * q.queries + i) * q.heads + h
                                               : (std::int64_t(b) * q.heads + h) * q.queries + i;
#pragma unroll
  for (int c = 0; c < kPerLane; ++c) {
    const int d = lane + 32 * c;
    if (d < dh) out.out[out_row * dh + d] = st.l > 0.0 ? static_cast<float>(st.o[c] / st.l) : 0.0f;
  }
  if (lane == 0) out.lse[out_row] = st.l > 0.0 ? static_cast<float>(st.m + log(st.l)) : -INFINITY;
}

template <int kPerLane>
void launch(const Job& job, unsigned int grid, cudaStream_t stream) {
  const auto bytes = [](int dh) { return std::size_t(2) * 32 * staged_stride(dh) * sizeof(double); };
  detail::allow_shared_memory_once(attention_kernel<kPerLane>, bytes(32 * kPerLane));
  detail::launch(attention_kernel<kPerLane>, grid, kThreads, bytes(job.q.head_dim), stream, job);
}

}  // namespace

void attention(const QueryBlock& q, const ContextKV& context, const BufferKV& buffer, const AttentionOut& out,
               cudaStream_t stream) {
  constexpr const char* kWhat = "mixed::attention";
  const std::int64_t rows = detail::check_queries(q, out, kWhat);
  detail::check_buffer(q, buffer, kWhat);
  if (context.k != nullptr || context.v != nullptr) detail::check_context(context, kWhat);  // else no context keys
  if (rows == 0) return;
  const Job job{q, context, buffer, out, 1.0 / std::sqrt(static_cast<double>(q.head_dim))};
  const unsigned int grid = detail::blocks_for(rows, kWarps, "mixed::attention");
  if (q.head_dim <= 32) launch<1>(job, grid, stream);
  else if (q.head_dim <= 64) launch<2>(job, grid, stream);
  else if (q.head_dim <= 128) launch<4>(job, grid, stream);
  else launch<8>(job, grid, stream);
}

}  // namespace artabpfn::kernels::mixed
