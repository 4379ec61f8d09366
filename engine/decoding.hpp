#pragma once
// The AR decoding jobs (Session::sample_sequence, forced_ar_density): prefill once, then
// decode the per_task sequences of every task in chunks that fit in memory, each step replayed as
// one CUDA graph (SessionOptions::decode_graphs) or launched eagerly.
#include <cstdint>

#include "artabpfn/host_tensor.hpp"
#include "artabpfn/task_tensors.hpp"
#include "engine/session_options.hpp"
#include "engine/device_model.hpp"

namespace artabpfn::engine {

// sample: `per_task` samples a task drawn with `seed`; else the log densities of y_target's
// per_task value sets along the decode path. Runs on `stream`, named `job` in notices. Returns
// [T, per_task, Nt_max], NaN past a task's target count.
HostTensor<float> decode_in_chunks(const DeviceModel& model, const SessionOptions& options, cudaStream_t stream,
                                   const char* job, const TaskTensors& tasks, std::int64_t per_task, bool sample,
                                   std::uint64_t seed);

}  // namespace artabpfn::engine
