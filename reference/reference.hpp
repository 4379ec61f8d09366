#pragma once
// The reference model: include this header to use it. The jobs are compiled once per scalar in
// instantiate_*.cpp (float: the plain float32 baseline for tolerances; double: the oracle;
// Multiprecision: the check on the oracle), so users do not re-instantiate them.
#include "reference/model.hpp"
#if ARTABPFN_HAS_MULTIPRECISION
#include "reference/multiprecision.hpp"
#endif

#define ARTABPFN_REFERENCE_JOBS(EXTERN, T)                                                                     \
  EXTERN template struct ModelParams<T>;                                                                       \
  EXTERN template TeacherForcing<T> teacher_forcing<T>(const ModelParams<T>&, const TaskInputs&,               \
                                                       const Eigen::VectorXd&, const ExactProducts<T>&);       \
  EXTERN template ContextCache<T> prefill<T>(const ModelParams<T>&, const TaskInputs&, const ExactProducts<T>&); \
  EXTERN template Matrix<T> forced_ar_logpdf<T>(const ModelParams<T>&, const TaskInputs&, const InputMatrix&);  \
  EXTERN template Matrix<T> sample_sequence<T>(const ModelParams<T>&, const TaskInputs&, Eigen::Index,         \
                                               const SamplingOptions&);                                        \
  EXTERN template std::vector<Matrix<T>> evaluate_joint_density<T>(                                            \
      const ModelParams<T>&, const std::vector<TaskInputs>&, const std::vector<InputMatrix>&);                 \
  EXTERN template std::vector<Matrix<T>> sample_sequence<T>(const ModelParams<T>&, const std::vector<TaskInputs>&, \
                                                            Eigen::Index, std::uint64_t,                       \
                                                            const std::optional<std::vector<std::uint32_t>>&);

namespace artabpfn::reference {
ARTABPFN_REFERENCE_JOBS(extern, float)
ARTABPFN_REFERENCE_JOBS(extern, double)
#if ARTABPFN_HAS_MULTIPRECISION
ARTABPFN_REFERENCE_JOBS(extern, Multiprecision)
#endif
}  // namespace artabpfn::reference
