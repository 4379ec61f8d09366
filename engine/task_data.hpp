#pragma once
// What the engine's passes (float32 and mixed precision) share: one call's tasks in device memory
// (TaskData), the per-layer context K/V a prefill leaves behind (ContextCache), and the rows of
// a teacher-forcing pass (TeacherForcingIndex, embed_teacher_forcing_rows).
#include <cstdint>
#include <vector>

#include "artabpfn/task_tensors.hpp"
#include "kernels/attention.hpp"
#include "kernels/device_buffer.hpp"
#include "kernels/rows.hpp"

namespace artabpfn::engine {

// A device copy of host, queued on `stream` (kernels::DeviceBuffer::upload: host must stay alive
// until the stream has been synchronised).
template <class T>
kernels::DeviceBuffer<T> upload(const std::vector<T>& host, cudaStream_t stream) {
  return kernels::DeviceBuffer<T>(host, stream);
}

// One call's tasks in device memory: context rows compacted, targets padded with zeros. Uploaded
// on `stream`; the constructor waits for the copies.
struct TaskData {
  int tasks = 0, features = 0, nt_max = 0;
  std::int64_t context_rows = 0;
  std::vector<std::int64_t> target_len;
  kernels::DeviceBuffer<float> x_context, y_context, x_target;
  kernels::DeviceBuffer<std::int32_t> row_task, context_len;
  kernels::DeviceBuffer<std::int64_t> row_start, context_offset;

  TaskData(const TaskTensors& t, int d_model, cudaStream_t stream);
};

struct ContextCache {
  std::vector<kernels::DeviceBuffer<float>> k, v;  // per layer, [H, Nc_t, Dh] blocks of all tasks
  ContextCache(int layers, std::int64_t rows, int d_model);
};

// What one layer's attention reads.
struct LayerAttention {
  kernels::QueryBlock q;
  kernels::ContextKV context;
  kernels::BufferKV buffer;
};

// A prefill's layer l, from the q|k|v rows [Nc_total, 3D] of every task's context rows: stores
// their K and V in the cache's blocks; each context row is a query (Lq 1) of its own task's
// context, with no buffer.
LayerAttention store_prefill_kv(const float* qkv, ContextCache& cache, int layer, const TaskData& d, int n_heads,
                                int head_dim, cudaStream_t stream);

// A prefill's embedded context rows into out [Nc_total, D] (float, or double for the mixed path).
template <class Out>
void embed_context_rows(const kernels::EmbeddingWeights& weights, const TaskData& d, Out* out, cudaStream_t stream) {
  kernels::embed_rows(weights,
                      kernels::BasicEmbeddingJob<Out>{d.x_context.data(), nullptr, 0, d.features, d.y_context.data(), 1,
                                                      nullptr, -1, /*marker=*/1, out, 1, 1, 0},
                      d.context_rows, stream);
}

// A teacher-forcing pass over sequences b < seq_task.size() of nt targets (L = 2 nt rows each:
// buffers 0..nt-1, then targets 0..nt-1): sequence b's task, and for its buffer or target j the
// feature row seq_task[b] * Nt_max + j and the position j (device arrays, uploaded on `stream`;
// the constructor waits for the copies).
struct TeacherForcingIndex {
  kernels::DeviceBuffer<std::int32_t> task, x_row, position;
  TeacherForcingIndex(const TaskData& d, const std::vector<std::int32_t>& seq_task, std::int64_t nt,
                      cudaStream_t stream);
};

// A teacher-forcing pass's layer l, from the q|k|v rows [batch * L, 3D]: moves the sequences'
// K and V into heads layout (k_heads, v_heads [batch, H, L, Dh]; the buffer rows are the first nt
// of each sequence's L); the queries see their task's context and the teacher-forcing buffer mask.
LayerAttention teacher_forcing_attention(const float* qkv, float* k_heads, float* v_heads, const ContextCache& cache,
                                         int layer, const TaskData& d, const TeacherForcingIndex& index,
                                         std::int64_t nt, int n_heads, int head_dim, cudaStream_t stream);

// The pass's embedded rows into out [batch * L, D] (float, or double for the mixed path): buffer j
// of sequence b from feature row x_row and value y[b * nt + j] (device), target j without a value.
template <class Out>
void embed_teacher_forcing_rows(const kernels::EmbeddingWeights& weights, const TaskData& d,
                                const TeacherForcingIndex& index, const float* y, std::int64_t nt, Out* out,
                                cudaStream_t stream) {
  const std::int64_t batch = static_cast<std::int64_t>(index.task.size()), L = 2 * nt;
  using Job = kernels::BasicEmbeddingJob<Out>;
  kernels::embed_rows(weights, Job{d.x_target.data(), index.x_row.data(), 0, d.features, y, 1, index.position.data(),
                                   -1, /*marker=*/2, out, nt, L, 0},
                      batch * nt, stream);
  kernels::embed_rows(weights, Job{d.x_target.data(), index.x_row.data(), 0, d.features, nullptr, 0, nullptr, -1,
                                   /*marker=*/0, out, nt, L, nt},
                      batch * nt, stream);
}

}  // namespace artabpfn::engine
