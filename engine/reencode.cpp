#include "engine/reencode.hpp"

#include <algorithm>
#include <vector>

#include "artabpfn/error.hpp"
#include "engine/memory_plan.hpp"
#include "engine/passes.hpp"
#include "engine/sequences.hpp"
#include "engine/step_progress.hpp"
#include "kernels/head.hpp"

namespace artabpfn::engine {

HostTensor<float> reencode(const DeviceModel& model, const SessionOptions& options, cudaStream_t stream,
                           const TaskTensors& tasks, std::int64_t samples, std::uint64_t seed, bool sample) {
  using kernels::DeviceBuffer;
  const ModelConfig& c = model.config();
  LayerRunner<> run(model, options, stream);
  const std::int64_t per_task = sample ? samples : tasks.value_sets();
  const std::int64_t total = tasks.task_count() * per_task, nt = tasks.x_target.dim(1);
  HostTensor<float> out = padded_result(tasks.task_count(), per_task, nt);
  const std::int64_t chunk =
      plan_chunk(options, "reencode", total, reencode_floats_per_sequence(c, tasks.x_context.dim(1), nt));
  const int k3 = 3 * c.num_components;
  StepProgress progress(options, stream, (total + chunk - 1) / chunk * nt);
  for (std::int64_t first = 0; first < total; first += chunk) {
    const std::int64_t batch = std::min(chunk, total - first);
    const TaskData d(validate_task_tensors(one_task_per_sequence(tasks, first, batch, per_task), "reencode"), c.d_model,
                     stream);
    std::vector<std::int32_t> seq_task(static_cast<std::size_t>(batch));
    std::vector<std::uint32_t> task_id(seq_task.size()), sample_index(seq_task.size());
    for (std::int64_t b = 0; b < batch; ++b) {
      seq_task[std::size_t(b)] = static_cast<std::int32_t>(b);
      task_id[std::size_t(b)] = static_cast<std::uint32_t>((first + b) / per_task);
      sample_index[std::size_t(b)] = static_cast<std::uint32_t>((first + b) % per_task);
    }
    const auto dev_task_id = upload(task_id, stream), dev_sample = upload(sample_index, stream);
    const std::vector<float> given = sample ? std::vector<float>() : given_values(tasks, first, batch, nt);
    std::vector<float> values(static_cast<std::size_t>(batch * nt), 0.0f);  // [B, nt]
    DeviceBuffer<float> mix_t(static_cast<std::size_t>(batch * k3)), step_out(static_cast<std::size_t>(batch)),
        step_y(static_cast<std::size_t>(batch));
    for (std::int64_t t = 0; t < nt; ++t) {
      const ContextCache cache = prefill(run, d);  // re-encoded at every step
      std::vector<float> y(static_cast<std::size_t>(batch * (t + 1)), 0.0f);
      for (std::int64_t b = 0; b < batch; ++b)
        for (std::int64_t j = 0; j < t; ++j) y[std::size_t(b * (t + 1) + j)] = values[std::size_t(b * nt + j)];
      const DeviceBuffer<float> dev_y(y, stream);
      Workspace w(batch * 2 * (t + 1), c, true);
      teacher_forcing_pass(run, d, cache, seq_task, dev_y.data(), t + 1, w);
      kernels::gather_rows(w.mixture.data(), mix_t.data(), batch, k3, 1, t + 1, t, stream);
      std::vector<float> y_t;  // the values of step t: its copy may read it until the download below
      if (sample) {
        const kernels::SampleCounters counters{seed, dev_task_id.data(), dev_sample.data(), static_cast<std::uint32_t>(t)};
        kernels::mixture_sample(mix_t.data(), model.mixture_biases(), counters, batch, step_out.data(), nullptr, stream);
      } else {
        y_t.resize(static_cast<std::size_t>(batch));
        for (std::int64_t b = 0; b < batch; ++b) y_t[std::size_t(b)] = given[std::size_t(b * nt + t)];
        step_y.upload(y_t, stream);
        kernels::mixture_log_density(mix_t.data(), model.mixture_biases(), step_y.data(), batch, step_out.data(), stream);
      }
      const std::vector<float> result = step_out.download(stream);
      for (std::int64_t b = 0; b < batch; ++b) {
        values[std::size_t(b * nt + t)] = sample ? result[std::size_t(b)] : given[std::size_t(b * nt + t)];
        if (t < tasks.target_len[std::size_t((first + b) / per_task)])
          out.data[std::size_t((first + b) * nt + t)] = result[std::size_t(b)];
      }
      progress.step_done();
    }
  }
  return out;
}

}  // namespace artabpfn::engine
