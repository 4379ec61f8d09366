// Properties of the reference model on random small models and tasks (random sizes including
// Nc = 0, Nt = 1, Nt > buffer_size, head dims that are not powers of two). Each property runs
// RapidCheck's default 100 cases (more with RC_PARAMS="max_success=N"); a failure prints a
// reproduce string: RC_PARAMS="reproduce=..." replays exactly that case.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <numeric>

#include "reference/reference.hpp"
#include "tests/support/permuted_model.hpp"
#include "tests/support/random_model.hpp"

namespace artabpfn::test_support {
namespace {

using reference::InputMatrix;
using reference::ModelParams;
#if ARTABPFN_HAS_MULTIPRECISION
using reference::Multiprecision;
#endif
using reference::TaskInputs;

// Two double evaluations of the same function in different orders differ by rounding only
// (peer fixtures: 3e-13 between teacher forcing and the AR path on the full paper model).
constexpr double kDoubleAgreement = 1e-10;
#if ARTABPFN_HAS_MULTIPRECISION
// The 50-digit reference is exact to double precision; double differs from it by rounding.
constexpr double kMultiprecisionAgreement = 1e-12;
#endif

double scaled_gap(double a, double b) { return std::abs(a - b) / std::max(1.0, std::abs(b)); }

struct Drawn {
  ModelParams<double> params;
  TaskInputs task;
  Eigen::VectorXd y;
};

Drawn draw(const SmallCase& c) {
  std::mt19937_64 engine(c.seed ^ 0x9e3779b97f4a7c15ULL);
  const ModelWeights w = random_weights(c.config, c.seed);
  TaskInputs task = random_task(engine, c.nc, c.nt, c.features);
  return {ModelParams<double>::from_weights(w), std::move(task), random_values(engine, c.nt)};
}

RC_GTEST_PROP(ReferenceProperties, TeacherForcingEqualsForcedArDensity, (const SmallCase& c)) {
  const Drawn d = draw(c);
  const auto tf = reference::teacher_forcing(d.params, d.task, d.y).logpdf;
  const auto ar = reference::forced_ar_logpdf(d.params, d.task, InputMatrix(d.y.transpose()));
  for (Eigen::Index t = 0; t < c.nt; ++t) RC_ASSERT(scaled_gap(ar(0, t), tf(t)) <= kDoubleAgreement);
}

RC_GTEST_PROP(ReferenceProperties, ContextPermutationLeavesEveryOutputUnchanged, (const SmallCase& c)) {
  const Drawn d = draw(c);
  std::vector<Eigen::Index> order(static_cast<std::size_t>(c.nc));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(c.seed));
  TaskInputs permuted = d.task;
  for (Eigen::Index i = 0; i < c.nc; ++i) {
    permuted.x_context.row(i) = d.task.x_context.row(order[static_cast<std::size_t>(i)]);
    permuted.y_context(i) = d.task.y_context(order[static_cast<std::size_t>(i)]);
  }
  const auto a = reference::teacher_forcing(d.params, d.task, d.y);
  const auto b = reference::teacher_forcing(d.params, permuted, d.y);
  for (Eigen::Index t = 0; t < c.nt; ++t) RC_ASSERT(scaled_gap(b.logpdf(t), a.logpdf(t)) <= kDoubleAgreement);
  RC_ASSERT((b.z_target - a.z_target).cwiseAbs().maxCoeff() <= kDoubleAgreement);
  const auto sa = reference::sample_sequence(d.params, d.task, 3, {c.seed, 0, 256});
  const auto sb = reference::sample_sequence(d.params, permuted, 3, {c.seed, 0, 256});
  RC_ASSERT((sa - sb).cwiseAbs().maxCoeff() <= kDoubleAgreement * std::max(1.0, sa.cwiseAbs().maxCoeff()));
}

// Relabelled hidden units (tests/support/permuted_model.hpp) compute the same function: the
// engine property takes the plain float32 error of such a model as another summation order.
RC_GTEST_PROP(ReferenceProperties, PermutedHiddenUnitsLeaveEveryOutputUnchanged, (const SmallCase& c)) {
  const Drawn d = draw(c);
  std::mt19937_64 engine(c.seed + 2);
  const ModelParams<double> permuted = permuted_hidden_units(d.params, engine);
  const auto a = reference::teacher_forcing(d.params, d.task, d.y);
  const auto b = reference::teacher_forcing(permuted, d.task, d.y);
  for (Eigen::Index t = 0; t < c.nt; ++t) RC_ASSERT(scaled_gap(b.logpdf(t), a.logpdf(t)) <= kDoubleAgreement);
  const auto ar = reference::forced_ar_logpdf(permuted, d.task, InputMatrix(d.y.transpose()));
  for (Eigen::Index t = 0; t < c.nt; ++t) RC_ASSERT(scaled_gap(ar(0, t), a.logpdf(t)) <= kDoubleAgreement);
}

RC_GTEST_PROP(ReferenceProperties, SampleDoesNotDependOnBatchCompanions, (const SmallCase& c)) {
  const Drawn d = draw(c);
  const int samples = *rc::gen::inRange(1, 9);
  const int chunk = *rc::gen::inRange(1, 9);
  // Task 1 alone (as task id 1) versus inside a batch of three tasks with more samples.
  std::mt19937_64 engine(c.seed + 1);
  const TaskInputs other = random_task(engine, c.nc + 1, c.nt, c.features);
  const auto alone = reference::sample_sequence(d.params, d.task, samples, {c.seed, 1, chunk});
  const auto batch = reference::sample_sequence(d.params, std::vector<TaskInputs>{other, d.task, other},
                                                samples + 2, c.seed);
  const double scale = std::max(1.0, alone.cwiseAbs().maxCoeff());
  RC_ASSERT((batch[1].topRows(samples) - alone).cwiseAbs().maxCoeff() <= kDoubleAgreement * scale);
  // Densities: a task scored alone or next to others gives the same values.
  const auto single = reference::evaluate_joint_density(d.params, {d.task}, {InputMatrix(d.y.transpose())});
  const auto several = reference::evaluate_joint_density(
      d.params, {other, d.task}, {InputMatrix(random_values(engine, c.nt).transpose()), InputMatrix(d.y.transpose())});
  RC_ASSERT((several[1] - single[0]).cwiseAbs().maxCoeff() == 0.0);
}

// Built without Boost (-DARTABPFN_WITH_MULTIPRECISION=OFF, e.g. on air-gapped GPU runners)
// there is no 50-digit reference to agree with.
#if ARTABPFN_HAS_MULTIPRECISION
RC_GTEST_PROP(ReferenceProperties, DoubleAgreesWithMultiprecision, (const SmallCase& c)) {
  const Drawn d = draw(c);
  const auto mp_params = ModelParams<Multiprecision>::from_weights(random_weights(c.config, c.seed));
  const auto tf = reference::teacher_forcing(d.params, d.task, d.y);
  const auto tf_mp = reference::teacher_forcing(mp_params, d.task, d.y);
  for (Eigen::Index t = 0; t < c.nt; ++t)
    RC_ASSERT(scaled_gap(tf.logpdf(t), static_cast<double>(tf_mp.logpdf(t))) <= kMultiprecisionAgreement);
  const auto ar = reference::forced_ar_logpdf(d.params, d.task, InputMatrix(d.y.transpose()));
  const auto ar_mp = reference::forced_ar_logpdf(mp_params, d.task, InputMatrix(d.y.transpose()));
  for (Eigen::Index t = 0; t < c.nt; ++t)
    RC_ASSERT(scaled_gap(ar(0, t), static_cast<double>(ar_mp(0, t))) <= kMultiprecisionAgreement);
}
#endif

RC_GTEST_PROP(ReferenceProperties, ResultsAreFinite, (const SmallCase& c)) {
  const Drawn d = draw(c);
  RC_ASSERT(reference::teacher_forcing(d.params, d.task, d.y).logpdf.allFinite());
  RC_ASSERT(reference::forced_ar_logpdf(d.params, d.task, InputMatrix(d.y.transpose())).allFinite());
  RC_ASSERT(reference::sample_sequence(d.params, d.task, 4, {c.seed, 0, 256}).allFinite());
}

}  // namespace
}  // namespace artabpfn::test_support
