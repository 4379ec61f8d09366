#pragma once
// One session: its own CUDA stream, caches and scratch memory, running the jobs of
// docs/model.md ("The jobs") on a shared, immutable DeviceModel. Contexts are independent:
// several threads may run their own contexts on one model at once, with results identical to
// running them one by one. Each context's stream is non-blocking and every transfer of a job is
// queued on it, so contexts on several threads do not wait for each other's copies.
//
// Every job takes the padded task layout (task_tensors.hpp): several tasks per call, each with
// its own context size and target count. Each task's context runs through the network once
// (prefill); its per-layer K/V are kept once per task, never per sample. Results are
// [T, rows, Nt_max] float tensors, NaN past a task's target count.
#include <cstdint>

#include "artabpfn/host_tensor.hpp"
#include "artabpfn/task_tensors.hpp"
#include "engine/session_options.hpp"
#include "engine/decode_plan.hpp"
#include "engine/device_model.hpp"
#include "engine/stream.hpp"

namespace artabpfn::engine {

class Session {
 public:
  explicit Session(const DeviceModel& model, SessionOptions options = {});
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Teacher forcing, one pass per call: log p(y_t | context, y_<t) for every value set.
  // Needs tasks.y_target. Returns [T, R, Nt_max].
  HostTensor<float> evaluate_joint_density(const TaskTensors& tasks);
  // The same densities along the AR decode path (buffer K/V appended step by step) for the given
  // values: equal to teacher forcing up to float32 rounding. Returns [T, R, Nt_max].
  HostTensor<float> forced_ar_density(const TaskTensors& tasks);
  // `samples` joint samples per task, drawn with the random-stream contract (task id = the
  // task's position in the call). Bitwise reproducible across runs, chunkings and contexts.
  // Returns [T, samples, Nt_max].
  HostTensor<float> sample_sequence(const TaskTensors& tasks, std::int64_t samples, std::uint64_t seed);

  // How a decode step of `per_task` sequences per task of `tasks`, all in one chunk, runs its layers
  // with this context's options and device.
  DecodePlan decode_plan(const TaskTensors& tasks, std::int64_t per_task) const;

  const SessionOptions& options() const { return options_; }

 private:
  const DeviceModel& model_;
  SessionOptions options_;
  Stream stream_;
};

}  // namespace artabpfn::engine
