// Parity with the public PyTorch implementation (fixtures/peer/): the double reference matches
// its float64 results to 1e-10 on both fixtures, through both code paths (the dense
// teacher-forcing pass and the cached prefill + decode path). The max errors found are printed
// and recorded as test properties.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>

#include "reference/reference.hpp"
#include "tests/support/peer_fixture.hpp"

namespace artabpfn::test_support {
namespace {

using reference::Matrix;
using reference::ModelParams;

constexpr double kParityBound = 1e-10;

// Largest |a - b| over two equally long sequences.
template <class A>
double max_abs_diff(const A& actual, const std::vector<double>& expected) {
  EXPECT_EQ(static_cast<std::size_t>(actual.size()), expected.size());
  double m = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) m = std::max(m, std::abs(double(actual.data()[i]) - expected[i]));
  return m;
}

// Context K/V [Nc, D] as the fixture's [H, Nc, Dh].
std::vector<double> heads_first(const Matrix<double>& kv, int heads) {
  const Eigen::Index nc = kv.rows(), dh = kv.cols() / heads;
  std::vector<double> out;
  for (int h = 0; h < heads; ++h)
    for (Eigen::Index i = 0; i < nc; ++i)
      for (Eigen::Index d = 0; d < dh; ++d) out.push_back(kv(i, h * dh + d));
  return out;
}

class ReferenceParity : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceParity, DoubleReferenceMatchesPeerFloat64) {
  const PeerFixture f = load_peer_fixture(GetParam());
  const auto p = ModelParams<double>::from_weights(f.weights);
  const int last = p.config.n_layers - 1;
  std::map<std::string, double> worst;
  const auto track = [&](const std::string& what, double err) { worst[what] = std::max(worst[what], err); };
  for (std::size_t b = 0; b < f.tasks.size(); ++b) {
    const auto task = static_cast<std::int64_t>(b);
    const auto tf = reference::teacher_forcing(p, f.tasks[b], f.y_target[b]);
    track("tf_logpdf", max_abs_diff(tf.logpdf, f.expected("tf_logpdf", task)));
    track("tf_z_target", max_abs_diff(tf.z_target, f.expected("tf_z_target", task)));
    Matrix<double> mean(tf.mixture.size(), p.config.num_components), sd(mean.rows(), mean.cols()),
        weight(mean.rows(), mean.cols());
    for (std::size_t t = 0; t < tf.mixture.size(); ++t) {
      const auto row = static_cast<Eigen::Index>(t);
      mean.row(row) = tf.mixture[t].mean.transpose();
      sd.row(row) = tf.mixture[t].std.transpose();
      weight.row(row) = tf.mixture[t].log_weight.array().exp().matrix().transpose();
    }
    track("tf_mix_mean", max_abs_diff(mean, f.expected("tf_mix_mean", task)));
    track("tf_mix_std", max_abs_diff(sd, f.expected("tf_mix_std", task)));
    track("tf_mix_weight", max_abs_diff(weight, f.expected("tf_mix_weight", task)));

    const auto cache = reference::prefill(p, f.tasks[b]);
    for (const int layer : {0, last}) {
      const std::string suffix = "_layer" + std::to_string(layer);
      const auto k = heads_first(cache.keys[static_cast<std::size_t>(layer)], p.config.n_heads);
      const auto v = heads_first(cache.values[static_cast<std::size_t>(layer)], p.config.n_heads);
      track("prefill_k_cached", max_abs_diff(k, f.expected("prefill_k" + suffix, task)));
      track("prefill_v_cached", max_abs_diff(v, f.expected("prefill_v" + suffix, task)));
      const auto k_tf = heads_first(tf.context.keys[static_cast<std::size_t>(layer)], p.config.n_heads);
      track("prefill_k_dense", max_abs_diff(k_tf, f.expected("prefill_k" + suffix, task)));
    }
    const reference::InputMatrix y = f.y_target[b].transpose();
    track("ar_logpdf", max_abs_diff(reference::forced_ar_logpdf(p, f.tasks[b], y), f.expected("ar_logpdf", task)));
  }
  for (const auto& [what, err] : worst) {
    std::printf("[parity %s] max |double reference - peer float64| %-24s %.3e\n", GetParam().c_str(), what.c_str(), err);
    RecordProperty("max_err_" + what, std::to_string(err));
    EXPECT_LE(err, kParityBound) << what;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ReferenceParity, ::testing::Values("paper", "shared"));

}  // namespace
}  // namespace artabpfn::test_support
