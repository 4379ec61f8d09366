#pragma once
// The reencode baseline (AttentionMode::kReencode): no cache survives a step. At every step t,
// each sequence re-encodes its own copy of the context and its buffers 0..t-1 from scratch, and
// the head reads target t. For benchmarks and as a correctness path independent of the caches.
#include <cstdint>

#include "artabpfn/host_tensor.hpp"
#include "artabpfn/task_tensors.hpp"
#include "engine/session_options.hpp"
#include "engine/device_model.hpp"

namespace artabpfn::engine {

// sample: `samples` samples per task, drawn with the random-stream contract (seed); else the log
// densities of y_target's value sets. Runs on `stream`. Returns [T, rows, Nt_max], NaN past a
// task's target count.
HostTensor<float> reencode(const DeviceModel& model, const SessionOptions& options, cudaStream_t stream,
                           const TaskTensors& tasks, std::int64_t samples, std::uint64_t seed, bool sample);

}  // namespace artabpfn::engine
