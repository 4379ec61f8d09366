#include "engine/sequences.hpp"

#include <algorithm>
#include <limits>

namespace artabpfn::engine {

HostTensor<float> padded_result(std::int64_t tasks, std::int64_t rows_per_task, std::int64_t nt_max) {
  HostTensor<float> out({tasks, rows_per_task, nt_max});
  std::fill(out.data.begin(), out.data.end(), std::numeric_limits<float>::quiet_NaN());
  return out;
}

std::vector<std::int32_t> sequence_tasks(std::int64_t first, std::int64_t batch, std::int64_t per_task) {
  std::vector<std::int32_t> task(static_cast<std::size_t>(batch));
  for (std::int64_t b = 0; b < batch; ++b) task[std::size_t(b)] = static_cast<std::int32_t>((first + b) / per_task);
  return task;
}

namespace {

// out[seq, t] = at(b, t) for sequences seq = first + b, up to their task's target count.
template <class At>
void scatter(std::int64_t first, std::int64_t batch, std::int64_t rows_per_task,
             const std::vector<std::int64_t>& target_len, HostTensor<float>& out, At&& at) {
  const std::int64_t nt_max = out.dim(2);
  for (std::int64_t b = 0; b < batch; ++b) {
    const std::int64_t seq = first + b, task = seq / rows_per_task;
    for (std::int64_t t = 0; t < target_len[static_cast<std::size_t>(task)]; ++t)
      out.data[static_cast<std::size_t>(seq * nt_max + t)] = at(b, t);
  }
}

}  // namespace

void scatter_steps(const std::vector<float>& steps, std::int64_t first, std::int64_t batch, std::int64_t rows_per_task,
                   const std::vector<std::int64_t>& target_len, HostTensor<float>& out) {
  scatter(first, batch, rows_per_task, target_len, out,
          [&](std::int64_t b, std::int64_t t) { return steps[static_cast<std::size_t>(t * batch + b)]; });
}

void scatter_sequences(const std::vector<float>& sequences, std::int64_t first, std::int64_t batch,
                       std::int64_t rows_per_task, const std::vector<std::int64_t>& target_len, HostTensor<float>& out) {
  const std::int64_t nt_max = out.dim(2);
  scatter(first, batch, rows_per_task, target_len, out,
          [&](std::int64_t b, std::int64_t t) { return sequences[static_cast<std::size_t>(b * nt_max + t)]; });
}

std::vector<float> given_values(const TaskTensors& t, std::int64_t first, std::int64_t batch, std::int64_t nt) {
  const std::int64_t sets = t.value_sets(), nt_max = t.x_target.dim(1);
  std::vector<float> y(static_cast<std::size_t>(batch * nt), 0.0f);
  for (std::int64_t b = 0; b < batch; ++b) {
    const std::int64_t seq = first + b, len = std::min(nt, t.target_len[std::size_t(seq / sets)]);
    for (std::int64_t j = 0; j < len; ++j)
      y[std::size_t(b * nt + j)] = static_cast<float>(t.y_target->data[std::size_t(seq * nt_max + j)]);
  }
  return y;
}

std::vector<float> given_values_by_step(const TaskTensors& t, std::int64_t first, std::int64_t batch, std::int64_t nt) {
  const std::vector<float> y = given_values(t, first, batch, nt);
  std::vector<float> by_step(y.size());
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t j = 0; j < nt; ++j) by_step[std::size_t(j * batch + b)] = y[std::size_t(b * nt + j)];
  return by_step;
}

TaskTensors one_task_per_sequence(const TaskTensors& t, std::int64_t first, std::int64_t batch, std::int64_t per_task) {
  const std::int64_t nc = t.x_context.dim(1), nt = t.x_target.dim(1), f = t.feature_count();
  TaskTensors out;
  out.x_context = HostTensor<double>({batch, nc, f});
  out.y_context = HostTensor<double>({batch, nc});
  out.x_target = HostTensor<double>({batch, nt, f});
  for (std::int64_t b = 0; b < batch; ++b) {
    const std::int64_t task = (first + b) / per_task;
    std::copy_n(t.x_context.data.begin() + task * nc * f, nc * f, out.x_context.data.begin() + b * nc * f);
    std::copy_n(t.y_context.data.begin() + task * nc, nc, out.y_context.data.begin() + b * nc);
    std::copy_n(t.x_target.data.begin() + task * nt * f, nt * f, out.x_target.data.begin() + b * nt * f);
    out.context_len.push_back(t.context_len[std::size_t(task)]);
    out.target_len.push_back(t.target_len[std::size_t(task)]);
  }
  return out;
}

}  // namespace artabpfn::engine
