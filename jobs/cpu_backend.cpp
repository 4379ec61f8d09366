#include "jobs/cpu_backend.hpp"

#include <stdexcept>

#include "conformance/plain/model_jobs.hpp"
#include "conformance/plain/tf32_jobs.hpp"
#include "jobs/per_task.hpp"
#include "reference/reference.hpp"
#include "reference/task_batch.hpp"

namespace artabpfn::jobs {
namespace {

namespace plain = conformance::plain;

// Calls `run` with the jobs object of `precision`.
template <class Run>
Table with_jobs(const std::string& precision, const ModelWeights& weights, Run&& run) {
  if (precision == "float32") return run(plain::ReferenceJobs<float>(weights));
  if (precision == "tf32") return run(plain::Tf32Jobs(weights, plain::Arithmetic::kTf32Nearest));
  if (precision == "tf32x3") return run(plain::Tf32Jobs(weights, plain::Products::tf32x3()));
  throw std::logic_error("cpu backend: no precision '" + precision + "'");  // check_combination refuses it first
}

}  // namespace

Table cpu_density(const ModelWeights& weights, const TaskTensors& tasks, const std::string& precision,
                  const ProgressFn& on_progress) {
  return with_jobs(precision, weights, [&](const auto& jobs) {
    const auto split = reference::split_tasks(tasks);
    const auto values = reference::split_target_values(tasks);
    return each_task("density", split.size(), on_progress,
                     [&](std::size_t i) { return plain::teacher_forcing_rows(jobs, split[i], values[i]); });
  });
}

Table cpu_samples(const ModelWeights& weights, const TaskTensors& tasks, std::int64_t count, std::uint64_t seed,
                  const std::string& precision, const ProgressFn& on_progress) {
  return with_jobs(precision, weights, [&](const auto& jobs) {
    const auto split = reference::split_tasks(tasks);
    return each_task("sample", split.size(), on_progress, [&](std::size_t i) {
      return reference::sample_sequence_with(jobs, split[i], count, task_sampling(seed, i));
    });
  });
}

double cpu_bytes_per_value() { return sizeof(float); }

}  // namespace artabpfn::jobs
