#pragma once
// Persistent device state of the AR decode path for sequences [first, first + batch), `per_task`
// sequences per task: per-sample buffer K/V, the step-major [Nt, B] values (drawn, or given for
// forced AR density), the log densities, the workspace of one step's 2B rows (buffer t-1 and
// target t of every sample; at t = 0 the buffer row is a dummy nobody reads) and the step index t
// in device memory. A step's launches never change with t, so one CUDA graph serves every step.
#include <cstdint>
#include <vector>

#include "artabpfn/model_config.hpp"
#include "engine/stream.hpp"
#include "engine/task_data.hpp"
#include "engine/workspace.hpp"
#include "kernels/device_buffer.hpp"

namespace artabpfn::engine {

struct DecodeState {
  std::int64_t batch = 0;
  int cap = 1;
  bool sample = false;
  std::uint64_t seed = 0;
  kernels::DeviceBuffer<std::int32_t> task, x_base, step;
  std::vector<std::int32_t> task_host;  // task of each sample, for the cluster step's check
  kernels::DeviceBuffer<std::uint32_t> task_id, sample_index;
  kernels::DeviceBuffer<float> values, logp;
  std::vector<kernels::DeviceBuffer<float>> kb, vb;
  Workspace w;
  SideStream side;  // for the samples beside the cluster step's (decode_step)

  // Uploads on `stream` (given: the step-major values of forced AR density, else empty) and waits
  // for the copies.
  DecodeState(const ModelConfig& c, const TaskData& d, std::int64_t first, std::int64_t batch, std::int64_t per_task,
              bool sample, std::uint64_t seed, const std::vector<float>& given, cudaStream_t stream);
};

}  // namespace artabpfn::engine
