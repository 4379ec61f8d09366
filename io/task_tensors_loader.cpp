// Loading and validating the padded task layout (task_tensors.hpp). Messages quote the shapes as
// they are in the file, before the leading task dimension of a single task is added.
#include <fmt/format.h>

#include <cmath>

#include "artabpfn/error.hpp"
#include "artabpfn/safetensors.hpp"
#include "artabpfn/task_tensors.hpp"

namespace artabpfn {
namespace {

// Calls used(flat index) for every used element of a [T, ...] tensor: per task, the first len[task]
// entries along `axis`.
template <class Used>
void for_each_used(const HostTensor<double>& t, std::size_t axis, const std::vector<std::int64_t>& len, Used&& used) {
  std::int64_t outer = 1, inner = 1;  // per task: outer x [axis] x inner
  for (std::size_t d = 1; d < axis; ++d) outer *= t.dim(d);
  for (std::size_t d = axis + 1; d < t.rank(); ++d) inner *= t.dim(d);
  for (std::int64_t task = 0; task < t.dim(0); ++task)
    for (std::int64_t o = 0; o < outer; ++o)
      for (std::int64_t i = 0; i < len[static_cast<std::size_t>(task)] * inner; ++i)
        used(((task * outer + o) * t.dim(axis)) * inner + i);
}

// How a tensor is laid out, for messages: its name and the shape in the file.
struct Named {
  const char* name;
  Shape file_shape;
  std::string text() const { return fmt::format("{} {}", name, shape_to_string(file_shape)); }
};

class Validator {
 public:
  explicit Validator(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& what) const { throw InputError(source_ + ": " + what); }

  // The rank that x_target's layout asks of `t` (one task, or a batch with a leading T).
  void expect_rank(const Named& t, std::size_t single_rank, bool single, const Named& x_target,
                   const char* layout) const {
    const std::size_t expected = single ? single_rank : single_rank + 1;
    if (t.file_shape.size() != expected)
      fail(fmt::format("tensor '{}' has shape {}, but {} is {}: expected {} {}", t.name,
                       shape_to_string(t.file_shape), x_target.text(), single ? "one task" : "a batch of tasks",
                       t.name, layout));
  }

  void expect_dim(const Named& t, std::int64_t actual, std::int64_t expected, const char* what,
                  const Named& other) const {
    if (actual != expected)
      fail(fmt::format("tensor '{}' has shape {} with {} {}, but {} has {}", t.name, shape_to_string(t.file_shape),
                       actual, what, other.text(), expected));
  }

  std::vector<std::int64_t> lengths(const std::vector<std::int64_t>& given, std::int64_t tasks, std::int64_t padded,
                                    const char* name) const {
    if (given.empty()) return std::vector<std::int64_t>(static_cast<std::size_t>(tasks), padded);
    if (static_cast<std::int64_t>(given.size()) != tasks)
      fail(fmt::format("tensor '{}' has {} lengths for {} tasks", name, given.size(), tasks));
    for (std::size_t i = 0; i < given.size(); ++i)
      if (given[i] < 0 || given[i] > padded)
        fail(fmt::format("tensor '{}': task {} has length {} outside 0..{}", name, i, given[i], padded));
    return given;
  }

  // Every used element must be finite.
  void expect_finite(const HostTensor<double>& t, const Named& named, std::size_t axis,
                     const std::vector<std::int64_t>& len) const {
    for_each_used(t, axis, len, [&](std::int64_t flat) {
      const double v = t.data[static_cast<std::size_t>(flat)];
      if (!std::isfinite(v))
        fail(fmt::format("tensor '{}' holds {} at {} (of shape {}): inputs must be finite", named.name,
                         std::isnan(v) ? "NaN" : v > 0 ? "Inf" : "-Inf", position_to_string(flat, named.file_shape),
                         shape_to_string(named.file_shape)));
    });
  }

 private:
  std::string source_;
};

}  // namespace

TaskTensors validate_task_tensors(TaskTensors in, const std::string& source) {
  const Validator check(source);
  const Named xt{"x_target", in.x_target.shape}, xc{"x_context", in.x_context.shape}, yc{"y_context", in.y_context.shape};
  // x_target decides the layout: [Nt, F] is one task, [T, Nt, F] a batch; the others follow it.
  if (xt.file_shape.size() != 2 && xt.file_shape.size() != 3)
    check.fail(fmt::format("tensor 'x_target' has shape {}: expected [Nt, F] (one task) or [T, Nt, F] (a batch)",
                           shape_to_string(xt.file_shape)));
  const bool single = xt.file_shape.size() == 2;
  check.expect_rank(xc, 2, single, xt, single ? "[Nc, F]" : "[T, Nc, F]");
  check.expect_rank(yc, 1, single, xt, single ? "[Nc]" : "[T, Nc]");
  if (single) {
    for (HostTensor<double>* t : {&in.x_target, &in.x_context, &in.y_context}) t->shape.insert(t->shape.begin(), 1);
  }
  const std::int64_t tasks = in.x_target.dim(0), nt = in.x_target.dim(1), features = in.x_target.dim(2);
  const std::int64_t nc = in.x_context.dim(1);
  if (tasks == 0) check.fail(fmt::format("tensor 'x_target' has shape {}: no tasks", shape_to_string(xt.file_shape)));
  if (features == 0)
    check.fail(fmt::format("tensor 'x_target' has shape {}: the feature count is zero", shape_to_string(xt.file_shape)));
  check.expect_dim(xc, in.x_context.dim(0), tasks, "tasks", xt);
  check.expect_dim(xc, in.x_context.dim(2), features, "features", xt);
  check.expect_dim(yc, in.y_context.dim(0), tasks, "tasks", xt);
  check.expect_dim(yc, in.y_context.dim(1), nc, "context rows", xc);
  in.context_len = check.lengths(in.context_len, tasks, nc, "context_len");
  in.target_len = check.lengths(in.target_len, tasks, nt, "target_len");
  check.expect_finite(in.x_context, xc, 1, in.context_len);
  check.expect_finite(in.y_context, yc, 1, in.context_len);
  check.expect_finite(in.x_target, xt, 1, in.target_len);
  if (in.y_target) {
    HostTensor<double>& y = *in.y_target;
    const Named yt{"y_target", y.shape};
    // One task's y is [Nt] or [R, Nt]; a batch's is [T, Nt] or [T, R, Nt].
    const std::size_t rank = y.rank();
    if (single ? (rank != 1 && rank != 2) : (rank != 2 && rank != 3))
      check.fail(fmt::format("tensor 'y_target' has shape {}, but {} is {}: expected y_target {}",
                             shape_to_string(yt.file_shape), xt.text(), single ? "one task" : "a batch of tasks",
                             single ? "[Nt] or [R, Nt]" : "[T, Nt] or [T, R, Nt]"));
    if (single) y.shape.insert(y.shape.begin(), 1);
    if (y.rank() == 2) y.shape.insert(y.shape.begin() + 1, 1);  // [T, Nt] -> [T, 1, Nt]
    check.expect_dim(yt, y.dim(0), tasks, "tasks", xt);
    check.expect_dim(yt, y.dim(2), nt, "targets", xt);
    check.expect_finite(y, yt, 2, in.target_len);
  }
  return in;
}

UsedValue largest_used_value(const TaskTensors& tasks) {
  UsedValue largest{"", 0, 0.0};
  const auto scan = [&](const HostTensor<double>& t, const char* name, std::size_t axis,
                        const std::vector<std::int64_t>& len) {
    const std::int64_t per_task = t.dim(0) == 0 ? 0 : element_count(t.shape) / t.dim(0);
    for_each_used(t, axis, len, [&](std::int64_t flat) {
      const double v = t.data[static_cast<std::size_t>(flat)];
      if (std::abs(v) > std::abs(largest.value)) largest = {name, flat / per_task, v};
    });
  };
  scan(tasks.x_context, "x_context", 1, tasks.context_len);
  scan(tasks.y_context, "y_context", 1, tasks.context_len);
  scan(tasks.x_target, "x_target", 1, tasks.target_len);
  if (tasks.y_target) scan(*tasks.y_target, "y_target", 2, tasks.target_len);
  return largest;
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
