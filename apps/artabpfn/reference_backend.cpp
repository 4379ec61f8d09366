#include "reference_backend.hpp"

#include "artabpfn/error.hpp"
#include "reference/reference.hpp"
#include "reference/task_batch.hpp"

namespace artabpfn::cli {
namespace {

template <class T>
Table to_table(const std::vector<reference::Matrix<T>>& per_task) {
  Table out;
  for (const auto& m : per_task) {
    std::vector<std::vector<double>> rows;
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
      std::vector<double> row;
      for (Eigen::Index c = 0; c < m.cols(); ++c) row.push_back(static_cast<double>(m(r, c)));
      rows.push_back(std::move(row));
    }
    out.push_back(std::move(rows));
  }
  return out;
}

template <class T>
Table density(const ModelWeights& weights, const TaskTensors& tasks) {
  const auto params = reference::ModelParams<T>::from_weights(weights);
  return to_table(reference::evaluate_joint_density(params, reference::split_tasks(tasks),
                                                    reference::split_target_values(tasks)));
}

template <class T>
Table samples(const ModelWeights& weights, const TaskTensors& tasks, std::int64_t count, std::uint64_t seed) {
  const auto params = reference::ModelParams<T>::from_weights(weights);
  return to_table(reference::sample_sequence(params, reference::split_tasks(tasks), count, seed));
}

}  // namespace

Precision parse_reference_backend(const std::string& backend) {
  if (backend == "reference") return Precision::kDouble;
#if ARTABPFN_HAS_MULTIPRECISION
  if (backend == "reference-mp") return Precision::kMultiprecision;
#endif
  throw InputError("backend '" + backend + "' is not available in this build");
}

Table reference_density(const ModelWeights& weights, const TaskTensors& tasks, Precision precision) {
#if ARTABPFN_HAS_MULTIPRECISION
  if (precision == Precision::kMultiprecision) return density<reference::Multiprecision>(weights, tasks);
#endif
  (void)precision;
  return density<double>(weights, tasks);
}

Table reference_samples(const ModelWeights& weights, const TaskTensors& tasks, std::int64_t count, std::uint64_t seed,
                        Precision precision) {
#if ARTABPFN_HAS_MULTIPRECISION
  if (precision == Precision::kMultiprecision) return samples<reference::Multiprecision>(weights, tasks, count, seed);
#endif
  (void)precision;
  return samples<double>(weights, tasks, count, seed);
}

}  // namespace artabpfn::cli
