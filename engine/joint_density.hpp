#pragma once
// The teacher-forcing job (Session::evaluate_joint_density): prefill once, then one
// teacher-forcing pass per chunk of value sets, in float32 or mixed precision.
#include "artabpfn/host_tensor.hpp"
#include "artabpfn/task_tensors.hpp"
#include "engine/session_options.hpp"
#include "engine/device_model.hpp"

namespace artabpfn::engine {

// log p(y_t | context, y_<t) for every value set of tasks.y_target, on `stream`, in
// options.precision. Returns [T, R, Nt_max], NaN past a task's target count.
HostTensor<float> teacher_forcing_density(const DeviceModel& model, const SessionOptions& options, cudaStream_t stream,
                                          const TaskTensors& tasks);

}  // namespace artabpfn::engine
