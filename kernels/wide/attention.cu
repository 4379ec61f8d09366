// wide::attention (kernels/wide.hpp): one warp per query row (b, h, i), lane l holding the
// components d = l + 32 j of q and of the output accumulator (j < 8: head_dim <= 256). Keys are
// visited one at a time, the context of task task_of_sample[b] first, then the sample's buffer
// rows up to the row's limit (kernels/attention.hpp), with one online softmax state in double:
//   s = (q.k) / sqrt(Dh), the dot a per-lane fma chain then a butterfly over lane offsets 16..1
//   m' = max(m, s); l = l exp(m - m') + exp(s - m'); o = o exp(m - m') + exp(s - m') v; m = m'
// out = o / l and lse = m + log(l), each rounded once to float32. The order depends on the key
// count and Dh only: deterministic and batch invariant. Plain global loads (the warp reads a key
// row's consecutive floats): this path is for accuracy, not for the decode step's speed.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"
#include "kernels/layer/device_math.cuh"
#include "kernels/wide.hpp"

namespace artabpfn::kernels::wide {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kMaxPerLane = 8;

struct Job {
  QueryBlock q;
  ContextKV context;  // context.k == nullptr: no context keys
  BufferKV buffer;
  AttentionOut out;
  double scale;
};

struct State {
  double m = -INFINITY, l = 0.0;
  double o[kMaxPerLane] = {};
};

__device__ __forceinline__ double warp_sum(double s) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) s += __shfl_xor_sync(0xffffffffu, s, offset);
  return s;
}

// Folds key rows [0, count) of k, v (row stride Dh) into the state.
__device__ void visit(const float* k, const float* v, int count, const double (&q)[kMaxPerLane], int lane, int dh,
                      double scale, State& st) {
  for (int j = 0; j < count; ++j) {
    const float* kr = k + std::int64_t(j) * dh;
    const float* vr = v + std::int64_t(j) * dh;
    double dot = 0.0;
#pragma unroll
    for (int c = 0; c < kMaxPerLane; ++c) {
      const int d = lane + 32 * c;
      if (d < dh) dot = fma(q[c], double(kr[d]), dot);
    }
    const double s = warp_sum(dot) * scale;
    const double m = fmax(st.m, s);
    const double keep = exp(st.m - m), p = exp(s - m);  // exp(-inf) = 0 on the first key
    st.l = st.l * keep + p;
#pragma unroll
    for (int c = 0; c < kMaxPerLane; ++c) {
      const int d = lane + 32 * c;
      if (d < dh) st.o[c] = fma(p, double(vr[d]), st.o[c] * keep);
    }
    st.m = m;
  }
}

__global__ void __launch_bounds__(kThreads) attention_kernel(Job job) {
  detail::start_after_previous_kernel();
  const QueryBlock& q = job.q;
  const int lane = static_cast<int>(threadIdx.x % 32);
  const std::int64_t rows = std::int64_t(q.batch) * q.heads * q.queries;
  const std::int64_t row = std::int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;  // (b, h, i), i fastest
  if (row >= rows) return;  // the whole warp leaves together
  const int i = static_cast<int>(row % q.queries);
  const int h = static_cast<int>((row / q.queries) % q.heads);
  const int b = static_cast<int>(row / (std::int64_t(q.queries) * q.heads));
  const int dh = q.head_dim;
  const float* qr = q.row_stride > 0 ? q.q + (std::int64_t(b) * q.queries + i) * q.row_stride + std::int64_t(h) * dh
                                     : q.q + ((std::int64_t(b) * q.heads + h) * q.queries + i) * dh;
  double qv[kMaxPerLane];
#pragma unroll
  for (int c = 0; c < kMaxPerLane; ++c) {
    const int d = lane + 32 * c;
    qv[c] = d < dh ? double(qr[d]) : 0.0;
  }
  State st;
  if (job.context.k != nullptr) {
    const int task = job.context.task_of_sample[b];
    const int nc = job.context.context_len[task];
    const std::int64_t at = job.context.context_offset[task] + std::int64_t(h) * nc * dh;
    visit(job.context.k + at, job.context.v + at, nc, qv, lane, dh, job.scale, st);
  }
  const BufferKV& buf = job.buffer;
  int limit = buf.device_length != nullptr ? *buf.device_length : buf.length;
  if (buf.mask == BufferMask::kTeacherForcing) limit = i < buf.length ? i + 1 : i - buf.length;
  if (limit > 0) {
    const std::int64_t at = (std::int64_t(b) * q.heads + h) * buf.capacity * dh;
    visit(buf.k + at, buf.v + at, limit, qv, lane, dh, job.scale, st);
  }
  const AttentionOut& out = job.out;
  const std::int64_t out_row = out.rows_layout ? (std::int64_t(b) * q.queries + i) * q.heads + h
                                               : (std::int64_t(b) * q.heads + h) * q.queries + i;
#pragma unroll
  for (int c = 0; c < kMaxPerLane; ++c) {
    const int d = lane + 32 * c;
    if (d < dh) out.out[out_row * dh + d] = st.l > 0.0 ? static_cast<float>(st.o[c] / st.l) : 0.0f;
  }
  if (lane == 0) out.lse[out_row] = st.l > 0.0 ? static_cast<float>(st.m + log(st.l)) : -INFINITY;
}

}  // namespace

void attention(const QueryBlock& q, const ContextKV& context, const BufferKV& buffer, const AttentionOut& out,
               cudaStream_t stream) {
  using detail::require;
  require(q.batch >= 0 && q.queries >= 0 && q.heads >= 1, "wide::attention: batch, queries >= 0 and heads >= 1");
  require(q.head_dim >= 1 && q.head_dim <= 32 * kMaxPerLane, "wide::attention: head_dim must be in 1..256");
  require(q.row_stride == 0 || q.row_stride >= std::int64_t(q.heads) * q.head_dim,
          "wide::attention: query row stride must be 0 or at least heads * head_dim");
  require(buffer.length >= 0 && buffer.length <= buffer.capacity, "wide::attention: buffer length must be in 0..capacity");
  require(buffer.mask != BufferMask::kTeacherForcing || q.queries == 2 * buffer.length,
          "wide::attention: teacher forcing needs queries == 2 * buffer length");
  require(buffer.device_length == nullptr || buffer.mask == BufferMask::kDecode,
          "wide::attention: a device buffer length is for decode steps only");
  require(context.k == nullptr || (context.v != nullptr && context.context_offset != nullptr &&
                                   context.context_len != nullptr && context.task_of_sample != nullptr),
          "wide::attention: null context V, offset, length or task pointer");
  const std::int64_t rows = std::int64_t(q.batch) * q.heads * q.queries;
  if (rows == 0) return;
  require(buffer.length == 0 || (buffer.k != nullptr && buffer.v != nullptr), "wide::attention: null buffer K/V");
  require(q.q != nullptr && out.out != nullptr && out.lse != nullptr, "wide::attention: null query or output pointer");
  const Job job{q, context, buffer, out, 1.0 / std::sqrt(static_cast<double>(q.head_dim))};
  detail::launch(attention_kernel, detail::blocks_for(rows, kWarps, "wide::attention"), kThreads, 0, stream, job);
}

}  // namespace artabpfn::kernels::wide
