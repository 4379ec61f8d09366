// The reference attention primitives' contracts, checked two ways (as flashinfer's cascade tests do):
// attention over a key set equals the merge of attention over any split of it; merging is
// symmetric with (0, -inf) as identity; empty key sets give (0, -inf); nothing is NaN even for
// score ranges of +-1e4.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <random>

#include "reference/attention.hpp"

namespace artabpfn::test_support {
namespace {

using reference::AttentionState;
using reference::Matrix;

Matrix<double> random_matrix(std::mt19937_64& engine, Eigen::Index rows, Eigen::Index cols, double scale) {
  std::normal_distribution<double> n01;
  return Matrix<double>::NullaryExpr(rows, cols, [&] { return scale * n01(engine); });
}

double max_abs(const Matrix<double>& m) { return m.size() == 0 ? 0.0 : m.cwiseAbs().maxCoeff(); }

RC_GTEST_PROP(ReferenceProperties, MergeOfSplitEqualsWholeKeySet, ()) {
  const int nq = *rc::gen::inRange(1, 5), nk = *rc::gen::inRange(0, 12), dh = *rc::gen::inRange(1, 40);
  const int split = *rc::gen::inRange(0, nk + 1);
  const double scale = *rc::gen::element(0.1, 1.0, 10.0);
  std::mt19937_64 engine(*rc::gen::arbitrary<std::uint64_t>());
  const Matrix<double> q = random_matrix(engine, nq, dh, scale), k = random_matrix(engine, nk, dh, scale),
                       v = random_matrix(engine, nk, dh, 1.0);
  const AttentionState<double> whole = reference::attend<double>(q, k, v);
  const AttentionState<double> merged = reference::merge(reference::attend<double>(q, k.topRows(split), v.topRows(split)),
                                                         reference::attend<double>(q, k.bottomRows(nk - split), v.bottomRows(nk - split)));
  RC_ASSERT(max_abs(whole.out - merged.out) <= 1e-12);
  for (int i = 0; i < nq; ++i) {
    if (nk == 0) RC_ASSERT(merged.lse(i) == -std::numeric_limits<double>::infinity());
    else RC_ASSERT(std::abs(whole.lse(i) - merged.lse(i)) <= 1e-12 * std::max(1.0, std::abs(whole.lse(i))));
  }
}

RC_GTEST_PROP(ReferenceProperties, MergeIsSymmetricWithEmptyIdentity, ()) {
  const int nq = *rc::gen::inRange(1, 6), dh = *rc::gen::inRange(1, 16);
  std::mt19937_64 engine(*rc::gen::arbitrary<std::uint64_t>());
  // Adversarial LSE values up to +-1e4, as in flashinfer's merge tests.
  std::uniform_real_distribution<double> lse_range(-1e4, 1e4);
  AttentionState<double> a{random_matrix(engine, nq, dh, 1.0), Eigen::VectorXd::NullaryExpr(nq, [&] { return lse_range(engine); })};
  AttentionState<double> b{random_matrix(engine, nq, dh, 1.0), Eigen::VectorXd::NullaryExpr(nq, [&] { return lse_range(engine); })};
  const AttentionState<double> empty{Matrix<double>::Zero(nq, dh),
                                     Eigen::VectorXd::Constant(nq, -std::numeric_limits<double>::infinity())};
  const auto ab = reference::merge(a, b), ba = reference::merge(b, a);
  RC_ASSERT(ab.out.allFinite());
  RC_ASSERT(ab.lse.allFinite());
  RC_ASSERT(max_abs(ab.out - ba.out) <= 1e-15 * std::max(1.0, max_abs(ab.out)));
  RC_ASSERT((ab.lse - ba.lse).cwiseAbs().maxCoeff() == 0.0);
  const auto ae = reference::merge(a, empty);
  RC_ASSERT(max_abs(ae.out - a.out) == 0.0);
  RC_ASSERT((ae.lse - a.lse).cwiseAbs().maxCoeff() == 0.0);
  const auto ee = reference::merge(empty, empty);
  RC_ASSERT(max_abs(ee.out) == 0.0);
  RC_ASSERT(ee.lse.array().isInf().all() && (ee.lse.array() < 0).all());
}

TEST(ReferenceProperties, FullyMaskedQueryGivesZeroAndMinusInfinity) {
  std::mt19937_64 engine(7);
  const Matrix<double> q = random_matrix(engine, 3, 5, 1.0), k = random_matrix(engine, 4, 5, 1.0),
                       v = random_matrix(engine, 4, 5, 1.0);
  // Query 1 sees nothing; the others see everything.
  const auto s = reference::attend<double>(q, k, v, [](Eigen::Index i, Eigen::Index) { return i != 1; });
  EXPECT_EQ(s.out.row(1).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(s.lse(1), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(s.out.allFinite());
  EXPECT_TRUE(std::isfinite(s.lse(0)) && std::isfinite(s.lse(2)));
}

}  // namespace
}  // namespace artabpfn::test_support
