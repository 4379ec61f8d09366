#pragma once
// What the engine's passes (float32 and mixed precision) share: one call's tasks in device memory
// (TaskData), the per-layer context K/V a prefill leaves behind (ContextCache), and the rows of
// a teacher-forcing pass (TeacherForcingIndex, embed_teacher_forcing_rows).
#include <cstdint>
#include <vector>

#include "artabpfn/task_tensors.hpp"
#include "kernels/device_buffer.hpp"
#include "kernels/rows.hpp"

namespace artabpfn::engine {

template <class T>
kernels::DeviceBuffer<T> upload(const std::vector<T>& host) {
  return kernels::DeviceBuffer<T>(host);
}

// One call's tasks in device memory: context rows compacted, targets padded with zeros.
struct TaskData {
  int tasks = 0, features = 0, nt_max = 0;
  std::int64_t context_rows = 0;
  std::vector<std::int64_t> target_len;
  kernels::DeviceBuffer<float> x_context, y_context, x_target;
  kernels::DeviceBuffer<std::int32_t> row_task, context_len;
  kernels::DeviceBuffer<std::int64_t> row_start, context_offset;

  TaskData(const TaskTensors& t, int d_model);
};

struct ContextCache {
  std::vector<kernels::DeviceBuffer<float>> k, v;  // per layer, [H, Nc_t, Dh] blocks of all tasks
};

// A teacher-forcing pass over sequences b < seq_task.size() of nt targets (L = 2 nt rows each:
// buffers 0..nt-1, then targets 0..nt-1): sequence b's task, and for its buffer or target j the
// feature row seq_task[b] * Nt_max + j and the position j (device arrays).
struct TeacherForcingIndex {
  kernels::DeviceBuffer<std::int32_t> task, x_row, position;
  TeacherForcingIndex(const TaskData& d, const std::vector<std::int32_t>& seq_task, std::int64_t nt);
};

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
