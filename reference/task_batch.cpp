#include "reference/task_batch.hpp"

#include "artabpfn/error.hpp"

namespace artabpfn::reference {
namespace {

// Rows [0, rows) of task `task` of a [T, N, F] tensor as an [rows, F] matrix.
InputMatrix task_rows(const HostTensor<double>& t, std::int64_t task, std::int64_t rows) {
  const std::int64_t n = t.dim(1), f = t.rank() == 3 ? t.dim(2) : 1;
  InputMatrix m(rows, f);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < f; ++c) m(r, c) = t.data[static_cast<std::size_t>((task * n + r) * f + c)];
  return m;
}

}  // namespace

std::vector<TaskInputs> split_tasks(const TaskTensors& tensors) {
  std::vector<TaskInputs> tasks;
  for (std::int64_t i = 0; i < tensors.task_count(); ++i) {
    const std::int64_t nc = tensors.context_len[static_cast<std::size_t>(i)];
    const std::int64_t nt = tensors.target_len[static_cast<std::size_t>(i)];
    TaskInputs task;
    task.x_context = task_rows(tensors.x_context, i, nc);
    task.y_context = task_rows(tensors.y_context, i, nc).col(0);
    task.x_target = task_rows(tensors.x_target, i, nt);
    tasks.push_back(std::move(task));
  }
  return tasks;
}

std::vector<InputMatrix> split_target_values(const TaskTensors& tensors) {
  if (!tensors.y_target) throw InputError("inputs have no tensor 'y_target'");
  const HostTensor<double>& y = *tensors.y_target;
  const std::int64_t sets = y.dim(1), nt = y.dim(2);
  std::vector<InputMatrix> out;
  for (std::int64_t i = 0; i < tensors.task_count(); ++i) {
    const std::int64_t len = tensors.target_len[static_cast<std::size_t>(i)];
    InputMatrix m(sets, len);
    for (std::int64_t r = 0; r < sets; ++r)
      for (std::int64_t t = 0; t < len; ++t) m(r, t) = y.data[static_cast<std::size_t>((i * sets + r) * nt + t)];
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace artabpfn::reference
