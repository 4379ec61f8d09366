#include "engine/joint_density.hpp"

#include <algorithm>
#include <vector>

#include "engine/memory_plan.hpp"
#include "engine/mixed_density.hpp"
#include "engine/passes.hpp"
#include "engine/sequences.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/head.hpp"

namespace artabpfn::engine {

HostTensor<float> teacher_forcing_density(const DeviceModel& model, const SessionOptions& options, cudaStream_t stream,
                                          const TaskTensors& tasks) {
  const bool mixed = options.precision == Precision::kMixed;
  const ModelConfig& c = model.config();
  const TaskData d(tasks, c.d_model, stream);
  LayerRunner<> run(model, options, stream);
  MixedDensity mixed_pass(model, stream);
  const ContextCache cache = mixed ? mixed_pass.prefill(d) : prefill(run, d);
  const std::int64_t sets = tasks.value_sets(), nt = d.nt_max;
  HostTensor<float> out = padded_result(d.tasks, sets, nt);
  if (nt == 0) return out;
  const std::int64_t total = std::int64_t(d.tasks) * sets;
  const std::int64_t per_sequence =
      mixed ? MixedDensity::floats_per_sequence(c, nt) : teacher_forcing_floats_per_sequence(c, nt);
  const std::int64_t chunk = plan_chunk(options, "evaluate_joint_density", total, per_sequence);
  for (std::int64_t first = 0; first < total; first += chunk) {
    const std::int64_t batch = std::min(chunk, total - first);
    const std::vector<std::int32_t> seq_task = sequence_tasks(first, batch, sets);
    const std::vector<float> y_host = given_values(tasks, first, batch, nt);
    const kernels::DeviceBuffer<float> y(y_host, stream);
    kernels::DeviceBuffer<float> log_density(static_cast<std::size_t>(batch * nt));
    if (mixed) {
      mixed_pass.teacher_forcing(d, cache, seq_task, y.data(), nt, log_density.data());
    } else {
      Workspace w(batch * 2 * nt, c, true);
      teacher_forcing_pass(run, d, cache, seq_task, y.data(), nt, w);
      kernels::mixture_log_density(w.mixture.data(), model.mixture_biases(), y.data(), batch * nt, log_density.data(),
                                   stream);
      ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(stream));  // w is freed at the end of this block
    }
    scatter_sequences(log_density.download(stream), first, batch, sets, d.target_len, out);
  }
  return out;
}

}  // namespace artabpfn::engine
