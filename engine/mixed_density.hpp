#pragma once
// Teacher forcing in mixed precision (SessionOptions::precision == Precision::kMixed): the
// float32 path's sequence of operations with the kernels of kernels/mixed.hpp. Weights, q, k, v,
// the K/V caches, the attention output and the head's mixture rows are float32; the residual
// stream, every LayerNorm output and the feed-forward and head hidden rows are double, and
// every product, LayerNorm, GELU and softmax sums in double. The feature attention's two maps
// are applied one after the other (the float32 path's folded map is one more float32 rounding).
#include <cstdint>
#include <vector>

#include "engine/device_model.hpp"
#include "engine/task_data.hpp"

namespace artabpfn::engine {

class MixedDensity {
 public:
  MixedDensity(const DeviceModel& model, cudaStream_t stream) : model_(model), config_(model.config()), stream_(stream) {}

  // Every task's context rows through the network once: their per-layer K/V (float32).
  ContextCache prefill(const TaskData& d);
  // log p(y_j | context, y_<j) into log_density [batch * nt] (device, sequence-major) for
  // sequences b < batch = seq_task.size() of nt targets, sequence b scoring values y[b * nt + j]
  // (device) under the context of task seq_task[b].
  void teacher_forcing(const TaskData& d, const ContextCache& cache, const std::vector<std::int32_t>& seq_task,
                       const float* y, std::int64_t nt, float* log_density);
  // Device memory of one sequence of nt targets in teacher_forcing, in float32 units (the
  // memory planner's unit).
  static std::int64_t floats_per_sequence(const ModelConfig& c, std::int64_t nt);

 private:
  struct Workspace;
  template <class Attend>
  void layers(Workspace& w, std::int64_t n, Attend&& attend);

  const DeviceModel& model_;
  const ModelConfig& config_;
  cudaStream_t stream_;
};

}  // namespace artabpfn::engine
