// Loading and validating the padded task layout (task_tensors.hpp).
#include <fmt/format.h>

#include <cmath>

#include "artabpfn/error.hpp"
#include "artabpfn/safetensors.hpp"
#include "artabpfn/task_tensors.hpp"

namespace artabpfn {
namespace {

// Adds the leading task dimension to a single-task tensor of rank `single_rank`.
HostTensor<double> with_task_dim(HostTensor<double> t, std::size_t single_rank, const std::string& where) {
  if (t.rank() == single_rank) t.shape.insert(t.shape.begin(), 1);
  if (t.rank() != single_rank + 1)
    throw InputError(fmt::format("{}: expected rank {} or {}, got shape {}", where, single_rank, single_rank + 1,
                                 shape_to_string(t.shape)));
  return t;
}

void expect_dim(const HostTensor<double>& t, std::size_t axis, std::int64_t expected, const std::string& where,
                const std::string& what) {
  if (t.dim(axis) != expected)
    throw InputError(fmt::format("{}: shape {} has {} {} where {} expected", where, shape_to_string(t.shape),
                                 t.dim(axis), what, expected));
}

std::vector<std::int64_t> lengths(const std::vector<std::int64_t>& given, std::int64_t tasks, std::int64_t padded,
                                  const std::string& where) {
  if (given.empty()) return std::vector<std::int64_t>(static_cast<std::size_t>(tasks), padded);
  if (static_cast<std::int64_t>(given.size()) != tasks)
    throw InputError(fmt::format("{}: {} lengths for {} tasks", where, given.size(), tasks));
  for (std::size_t i = 0; i < given.size(); ++i)
    if (given[i] < 0 || given[i] > padded)
      throw InputError(fmt::format("{}: task {} has length {} outside 0..{}", where, i, given[i], padded));
  return given;
}

// Checks that every used element (per task, the first `len` rows along axis 1) is finite.
void expect_finite(const HostTensor<double>& t, const std::vector<std::int64_t>& len, const std::string& where) {
  const std::int64_t rows = t.dim(1);
  const std::int64_t row_size = rows == 0 ? 0 : element_count(t.shape) / (t.dim(0) * rows);
  for (std::int64_t task = 0; task < t.dim(0); ++task)
    for (std::int64_t r = 0; r < len[static_cast<std::size_t>(task)]; ++r)
      for (std::int64_t e = 0; e < row_size; ++e)
        if (!std::isfinite(t.data[static_cast<std::size_t>((task * rows + r) * row_size + e)]))
          throw InputError(fmt::format("{}: NaN or Inf at task {}, row {}", where, task, r));
}

}  // namespace

TaskTensors validate_task_tensors(TaskTensors in, const std::string& source) {
  const auto where = [&](const char* name) { return fmt::format("{}: tensor '{}'", source, name); };
  const bool single_task = in.x_target.rank() == 2;
  in.x_context = with_task_dim(std::move(in.x_context), 2, where("x_context"));
  in.y_context = with_task_dim(std::move(in.y_context), 1, where("y_context"));
  in.x_target = with_task_dim(std::move(in.x_target), 2, where("x_target"));
  const std::int64_t tasks = in.x_target.dim(0), nc = in.x_context.dim(1), nt = in.x_target.dim(1);
  const std::int64_t features = in.x_target.dim(2);
  if (tasks == 0) throw InputError(where("x_target") + ": no tasks");
  if (features == 0) throw InputError(where("x_target") + ": feature count is zero");
  expect_dim(in.x_context, 0, tasks, where("x_context"), "tasks");
  expect_dim(in.x_context, 2, features, where("x_context"), "features");
  expect_dim(in.y_context, 0, tasks, where("y_context"), "tasks");
  expect_dim(in.y_context, 1, nc, where("y_context"), "context rows");
  in.context_len = lengths(in.context_len, tasks, nc, where("context_len"));
  in.target_len = lengths(in.target_len, tasks, nt, where("target_len"));
  expect_finite(in.x_context, in.context_len, where("x_context"));
  expect_finite(in.y_context, in.context_len, where("y_context"));
  expect_finite(in.x_target, in.target_len, where("x_target"));
  if (in.y_target) {
    HostTensor<double>& y = *in.y_target;
    // A single task's y is [Nt] or [R, Nt]; a batch's is [T, Nt] or [T, R, Nt].
    if (single_task && y.rank() <= 2) y.shape.insert(y.shape.begin(), 1);
    if (y.rank() == 2) y.shape.insert(y.shape.begin() + 1, 1);  // [T, Nt] -> [T, 1, Nt]
    if (y.rank() != 3)
      throw InputError(fmt::format("{}: expected [T, Nt] or [T, R, Nt], got {}", where("y_target"),
                                   shape_to_string(y.shape)));
    expect_dim(y, 0, tasks, where("y_target"), "tasks");
    expect_dim(y, 2, nt, where("y_target"), "targets");
    for (std::int64_t task = 0; task < tasks; ++task)
      for (std::int64_t r = 0; r < y.dim(1); ++r)
        for (std::int64_t t = 0; t < in.target_len[static_cast<std::size_t>(task)]; ++t)
          if (!std::isfinite(y.data[static_cast<std::size_t>((task * y.dim(1) + r) * nt + t)]))
            throw InputError(fmt::format("{}: NaN or Inf at task {}, set {}, target {}", where("y_target"), task, r, t));
  }
  return in;
}

TaskTensors load_task_tensors(const std::filesystem::path& path) {
  const safetensors::File file = safetensors::File::read(path);
  TaskTensors t;
  t.x_context = file.to_f64("x_context");
  t.y_context = file.to_f64("y_context");
  t.x_target = file.to_f64("x_target");
  if (file.contains("y_target")) t.y_target = file.to_f64("y_target");
  if (file.contains("context_len")) t.context_len = file.to_i64("context_len").data;
  if (file.contains("target_len")) t.target_len = file.to_i64("target_len").data;
  return validate_task_tensors(std::move(t), file.source());
}

}  // namespace artabpfn
