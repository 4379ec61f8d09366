#include "engine/decoding.hpp"

#include <algorithm>
#include <vector>

#include "engine/decode_state.hpp"
#include "engine/decode_step.hpp"
#include "engine/memory_plan.hpp"
#include "engine/passes.hpp"
#include "engine/sequences.hpp"
#include "engine/step_graph.hpp"
#include "engine/step_progress.hpp"

namespace artabpfn::engine {

namespace {

// The AR decode path for sequences [first, first + batch), `per_task` sequences per task.
// sample == true: values [Nt, B] are drawn (seed); else they are given and log densities are
// returned. Returns the step-major [Nt, B] values (sampling) or log densities.
std::vector<float> decode(LayerRunner<>& run, const TaskData& d, const ContextCache& cache, std::int64_t first,
                          std::int64_t batch, std::int64_t per_task, bool sample, std::uint64_t seed,
                          const std::vector<float>& given, StepProgress& progress) {
  const cudaStream_t s = run.stream();
  DecodeState st(run.config(), d, first, batch, per_task, sample, seed, given, s);
  kernels::set_device_int(st.step.data(), 0, s);
  if (d.nt_max > 0 && run.options().decode_graphs) {
    StepGraph graph(run.model(), run.options(), d, cache, st);
    for (int t = 0; t < d.nt_max; ++t) {
      graph.launch(s);
      progress.step_done();
    }
  } else {
    for (int t = 0; t < d.nt_max; ++t) {
      decode_step(run, d, cache, st);
      progress.step_done();
    }
  }
  return sample ? st.values.download(s) : st.logp.download(s);
}

}  // namespace

HostTensor<float> decode_in_chunks(const DeviceModel& model, const SessionOptions& options, cudaStream_t stream,
                                   const char* job, const TaskTensors& tasks, std::int64_t per_task, bool sample,
                                   std::uint64_t seed) {
  const TaskData d(tasks, model.config().d_model, stream);
  LayerRunner<> run(model, options, stream);
  const ContextCache cache = prefill(run, d);
  HostTensor<float> out = padded_result(d.tasks, per_task, d.nt_max);
  const std::int64_t total = std::int64_t(d.tasks) * per_task;
  const std::int64_t chunk = plan_chunk(options, job, total, decode_floats_per_sequence(model.config(), d.nt_max));
  StepProgress progress(options, stream, (total + chunk - 1) / chunk * d.nt_max);
  for (std::int64_t first = 0; first < total; first += chunk) {
    const std::int64_t batch = std::min(chunk, total - first);
    const std::vector<float> given = sample ? std::vector<float>{} : given_values_by_step(tasks, first, batch, d.nt_max);
    scatter_steps(decode(run, d, cache, first, batch, per_task, sample, seed, given, progress), first, batch, per_task,
                  d.target_len, out);
  }
  return out;
}

}  // namespace artabpfn::engine
