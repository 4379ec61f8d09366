#include "jobs/reference_backend.hpp"

#include "artabpfn/error.hpp"
#include "jobs/per_task.hpp"
#include "reference/reference.hpp"
#include "reference/task_batch.hpp"

namespace artabpfn::jobs {
namespace {

// Task by task (per_task.hpp).
template <class T>
Table density(const ModelWeights& weights, const TaskTensors& tasks, const ProgressFn& on_progress) {
  const auto params = reference::ModelParams<T>::from_weights(weights);
  const auto split = reference::split_tasks(tasks);
  const auto values = reference::split_target_values(tasks);
  return each_task("density", split.size(), on_progress, [&](std::size_t i) {
    return reference::evaluate_joint_density(params, {split[i]}, {values[i]}).front();
  });
}

template <class T>
Table samples(const ModelWeights& weights, const TaskTensors& tasks, std::int64_t count, std::uint64_t seed,
              const ProgressFn& on_progress) {
  const auto params = reference::ModelParams<T>::from_weights(weights);
  const auto split = reference::split_tasks(tasks);
  return each_task("sample", split.size(), on_progress, [&](std::size_t i) {
    return reference::sample_sequence(params, split[i], count, task_sampling(seed, i));
  });
}

}  // namespace

Precision parse_reference_backend(const std::string& backend) {
  if (backend == "reference") return Precision::kDouble;
#if ARTABPFN_HAS_MULTIPRECISION
  if (backend == "reference-mp") return Precision::kMultiprecision;
#endif
  throw InputError("backend '" + backend + "' is not available in this build");
}

Table reference_density(const ModelWeights& weights, const TaskTensors& tasks, Precision precision,
                        const ProgressFn& progress) {
#if ARTABPFN_HAS_MULTIPRECISION
  if (precision == Precision::kMultiprecision) return density<reference::Multiprecision>(weights, tasks, progress);
#endif
  (void)precision;
  return density<double>(weights, tasks, progress);
}

Table reference_samples(const ModelWeights& weights, const TaskTensors& tasks, std::int64_t count, std::uint64_t seed,
                        Precision precision, const ProgressFn& progress) {
#if ARTABPFN_HAS_MULTIPRECISION
  if (precision == Precision::kMultiprecision)
    return samples<reference::Multiprecision>(weights, tasks, count, seed, progress);
#endif
  (void)precision;
  return samples<double>(weights, tasks, count, seed, progress);
}

double reference_bytes_per_value(Precision precision) {
#if ARTABPFN_HAS_MULTIPRECISION
  if (precision == Precision::kMultiprecision) return sizeof(reference::Multiprecision);
#endif
  (void)precision;
  return sizeof(double);
}

}  // namespace artabpfn::jobs
