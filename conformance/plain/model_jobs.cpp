#include "conformance/plain/model_jobs.hpp"

#include <algorithm>

#include "artabpfn/error.hpp"

namespace artabpfn::conformance::plain {
namespace {

const Tensor& float_input(const CaseFile& file, const std::string& name, std::size_t rank) {
  const Tensor& t = file.input(name);
  if (t.is_integer() || t.shape.size() != rank)
    throw InputError("model-job case: '" + name + "' must be a float tensor of rank " + std::to_string(rank) + ", not " +
                     shape_to_string(t.shape));
  return t;
}

const Tensor& integer_input(const CaseFile& file, const std::string& name) {
  const Tensor& t = file.input(name);
  if (!t.is_integer()) throw InputError("model-job case: '" + name + "' must be an integer tensor");
  return t;
}

std::int64_t single(const CaseFile& file, const std::string& name) {
  const Tensor& t = integer_input(file, name);
  if (t.ints.size() != 1) throw InputError("model-job case: '" + name + "' is not a single value");
  return t.ints[0];
}

std::int64_t length_at(const Tensor& lengths, std::size_t i, std::int64_t max, const std::string& name) {
  const std::int64_t n = lengths.ints.at(i);
  if (n < 0 || n > max) throw InputError("model-job case: " + name + " out of range");
  return n;
}

}  // namespace

Tasks read_tasks(const CaseFile& file, bool with_targets) {
  const Tensor& xc = float_input(file, "x_context", 3);
  const Tensor& yc = float_input(file, "y_context", 2);
  const Tensor& cl = integer_input(file, "context_len");
  Tasks t;
  const std::int64_t T = xc.shape[0];
  t.nc_max = int(xc.shape[1]);
  t.features = int(xc.shape[2]);
  if (yc.shape != Shape{T, t.nc_max} || cl.shape != Shape{T})
    throw InputError("model-job case: y_context or context_len does not match x_context");
  const Tensor* xt = nullptr;
  const Tensor* tl = nullptr;
  if (with_targets) {
    xt = &float_input(file, "x_target", 3);
    tl = &integer_input(file, "target_len");
    t.nt_max = int(xt->shape[1]);
    if (xt->shape != Shape{T, t.nt_max, t.features} || tl->shape != Shape{T})
      throw InputError("model-job case: x_target or target_len does not match x_context");
  }
  const std::size_t F = std::size_t(t.features);
  for (std::size_t i = 0; i < std::size_t(T); ++i) {
    reference::TaskInputs task;
    const std::int64_t nc = length_at(cl, i, t.nc_max, "context_len");
    task.x_context = reference::InputMatrix(nc, t.features);
    task.y_context = Eigen::VectorXd(nc);
    for (std::int64_t r = 0; r < nc; ++r) {
      const std::size_t row = i * std::size_t(t.nc_max) + std::size_t(r);
      task.y_context(r) = yc.values[row];
      for (std::size_t f = 0; f < F; ++f) task.x_context(r, Eigen::Index(f)) = xc.values[row * F + f];
    }
    const std::int64_t nt = with_targets ? length_at(*tl, i, t.nt_max, "target_len") : 0;
    task.x_target = reference::InputMatrix(nt, t.features);
    for (std::int64_t r = 0; r < nt; ++r)
      for (std::size_t f = 0; f < F; ++f)
        task.x_target(r, Eigen::Index(f)) = xt->values[(i * std::size_t(t.nt_max) + std::size_t(r)) * F + f];
    t.tasks.push_back(std::move(task));
  }
  return t;
}

std::vector<reference::InputMatrix> read_value_sets(const CaseFile& file, const Tasks& tasks) {
  const Tensor& y = float_input(file, "y_target", 3);
  const std::size_t T = tasks.tasks.size();
  if (y.shape[0] != std::int64_t(T) || y.shape[2] != tasks.nt_max)
    throw InputError("model-job case: y_target is not [T, R, Nt_max]");
  const Eigen::Index R = y.shape[1];
  std::vector<reference::InputMatrix> out;
  for (std::size_t i = 0; i < T; ++i) {
    reference::InputMatrix yi(R, tasks.tasks[i].target_count());
    for (Eigen::Index r = 0; r < R; ++r)
      for (Eigen::Index j = 0; j < yi.cols(); ++j)
        yi(r, j) = y.values[(i * std::size_t(R) + std::size_t(r)) * std::size_t(tasks.nt_max) + std::size_t(j)];
    out.push_back(std::move(yi));
  }
  return out;
}

std::vector<random_stream::Draw> read_draws(const CaseFile& file) {
  const std::int64_t rows = float_input(file, "z", 2).shape[0];
  std::vector<random_stream::Draw> draws(static_cast<std::size_t>(rows));
  const bool given = std::any_of(file.inputs.begin(), file.inputs.end(), [](const auto& in) { return in.first == "uniform"; });
  if (given) {
    const Tensor& u = float_input(file, "uniform", 1);
    const Tensor& n = float_input(file, "normal", 1);
    if (u.shape != Shape{rows} || n.shape != Shape{rows}) throw InputError("sampler case: uniform and normal must be [N]");
    for (std::size_t i = 0; i < draws.size(); ++i) draws[i] = {u.values[i], n.values[i]};
    return draws;
  }
  const std::uint64_t seed = std::uint64_t(single(file, "seed"));
  const std::uint32_t step = std::uint32_t(single(file, "step"));
  const Tensor& task_id = integer_input(file, "task_id");
  const Tensor& sample = integer_input(file, "sample");
  if (task_id.shape != Shape{rows} || sample.shape != Shape{rows}) throw InputError("sampler case: task_id and sample must be [N]");
  for (std::size_t i = 0; i < draws.size(); ++i)
    draws[i] = random_stream::draw_for(seed, std::uint32_t(task_id.ints[i]), std::uint32_t(sample.ints[i]), step);
  return draws;
}

reference::TaskInputs read_step_task(const CaseFile& file) {
  const Tensor& xt = float_input(file, "x_target", 2);
  reference::TaskInputs task;
  task.x_context = reference::InputMatrix(0, xt.shape[1]);
  task.y_context = Eigen::VectorXd(0);
  task.x_target = reference::InputMatrix(xt.shape[0], xt.shape[1]);
  for (Eigen::Index i = 0; i < task.x_target.size(); ++i) task.x_target.data()[i] = xt.values[std::size_t(i)];
  return task;
}

StepInputs read_step_inputs(const CaseFile& file) {
  StepInputs in;
  in.context_keys = float_input(file, "context_keys", 3).values;
  in.context_values = float_input(file, "context_values", 3).values;
  in.before_keys = float_input(file, "buffer_keys_before", 4).values;
  in.before_values = float_input(file, "buffer_values_before", 4).values;
  in.y_buffer = float_input(file, "y_buffer", 1).values;
  return in;
}

}  // namespace artabpfn::conformance::plain
