#pragma once
// A batch of tasks in the padded tensor layout of an inputs file (the fixtures' layout):
//   x_context [T, Nc, F]  y_context [T, Nc]  x_target [T, Nt, F]  y_target [T, Nt] or [T, R, Nt]
// with optional context_len [T] and target_len [T] (int64): rows past a length are ignored.
// A single task may be given without the leading T dimension (y_target then [Nt] or [R, Nt]).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "artabpfn/host_tensor.hpp"

namespace artabpfn {

struct TaskTensors {
  HostTensor<double> x_context, y_context, x_target;
  std::optional<HostTensor<double>> y_target;  // always [T, R, Nt] after loading (R = 1 for [T, Nt])
  std::vector<std::int64_t> context_len, target_len;  // per task, filled from the padding when absent

  std::int64_t task_count() const { return x_target.dim(0); }
  std::int64_t feature_count() const { return x_target.dim(2); }
  std::int64_t value_sets() const { return y_target ? y_target->dim(1) : 0; }
};

// Reads and validates an inputs file: shapes agree between tensors, F >= 1, lengths within the
// padding, every used value finite. Throws InputError naming the file, tensor and problem.
TaskTensors load_task_tensors(const std::filesystem::path& path);

// The same checks on tensors built in memory; `source` names them in errors.
TaskTensors validate_task_tensors(TaskTensors tensors, const std::string& source);

// The used value (rows past a length are not used) of largest magnitude in validated tensors.
struct UsedValue {
  std::string tensor;  // "" when there is no nonzero value
  std::int64_t task = 0;
  double value = 0.0;
};
UsedValue largest_used_value(const TaskTensors& tensors);

}  // namespace artabpfn
