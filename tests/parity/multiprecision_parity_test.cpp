// The multiprecision reference (50 digits) agrees with the double reference to 1e-12 on the peer
// fixtures: on the first task of each fixture in CI, on every task with ARTABPFN_WHOLE_FIXTURES
// (the 'slow' build of this file). Per-target log densities of both jobs, the mixture and the
// final target embeddings are compared; the largest gap is printed.
#include <gtest/gtest.h>

#include <cstdio>

#include "reference/reference.hpp"
#include "tests/support/peer_fixture.hpp"

namespace artabpfn::test_support {
namespace {

using reference::Matrix;
using reference::ModelParams;
using reference::Multiprecision;

constexpr double kAgreement = 1e-12;

template <class A, class B>
double max_gap(const A& d, const B& mp) {
  double m = 0;
  for (Eigen::Index i = 0; i < d.size(); ++i)
    m = std::max(m, std::abs(d.data()[i] - static_cast<double>(mp.data()[i])) / std::max(1.0, std::abs(d.data()[i])));
  return m;
}

class ReferenceParity : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceParity, MultiprecisionAgreesWithDouble) {
  const PeerFixture f = load_peer_fixture(GetParam());
  const auto p = ModelParams<double>::from_weights(f.weights);
  const auto p_mp = ModelParams<Multiprecision>::from_weights(f.weights);
  const std::size_t tasks = ARTABPFN_WHOLE_FIXTURES ? f.tasks.size() : 1;
  double tf_gap = 0, z_gap = 0, ar_gap = 0;
  for (std::size_t b = 0; b < tasks; ++b) {
    const auto tf = reference::teacher_forcing(p, f.tasks[b], f.y_target[b]);
    const auto tf_mp = reference::teacher_forcing(p_mp, f.tasks[b], f.y_target[b]);
    tf_gap = std::max(tf_gap, max_gap(tf.logpdf, tf_mp.logpdf));
    z_gap = std::max(z_gap, max_gap(tf.z_target, tf_mp.z_target));
    if (ARTABPFN_WHOLE_FIXTURES) {
      const reference::InputMatrix y = f.y_target[b].transpose();
      ar_gap = std::max(ar_gap, max_gap(reference::forced_ar_logpdf(p, f.tasks[b], y),
                                        reference::forced_ar_logpdf(p_mp, f.tasks[b], y)));
    }
  }
  std::printf("[multiprecision %s, %zu task(s)] max relative gap: tf_logpdf %.3e, tf_z_target %.3e, ar_logpdf %.3e\n",
              GetParam().c_str(), tasks, tf_gap, z_gap, ar_gap);
  EXPECT_LE(tf_gap, kAgreement);
  EXPECT_LE(z_gap, kAgreement);
  EXPECT_LE(ar_gap, kAgreement);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ReferenceParity, ::testing::Values("paper", "shared"));

}  // namespace
}  // namespace artabpfn::test_support
