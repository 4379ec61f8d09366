// The reference sampler against the peer's samples (fixtures/peer/paper_samples.safetensors),
// in distribution (tests/support/distribution_check.hpp). With a fixed seed the test is
// deterministic. A negative control shows the check has power: our samples shifted by a quarter
// of each target's standard deviation (a bias bug of that size) must be rejected.
#include <gtest/gtest.h>

#include <cmath>

#include "artabpfn/weights_loader.hpp"
#include "reference/reference.hpp"
#include "tests/support/distribution_check.hpp"
#include "tests/support/fixtures_dir.hpp"

namespace artabpfn::test_support {
namespace {

using reference::Matrix;

constexpr std::uint64_t kSeed = 20261125;

TEST(ReferenceParity, SamplerMatchesPeerSamplesInDistribution) {
  const auto params = reference::ModelParams<double>::from_weights(load_weights(
      fixtures_dir() / "peer" / "paper_weights.safetensors", {std::nullopt, [](const std::string&) {}}));
  const PeerSamples peer_samples = load_peer_samples();
  const Matrix<double>& peer = peer_samples.samples;
  const reference::TaskInputs& task = peer_samples.task;

  const Matrix<double> ours = reference::sample_sequence(params, task, peer.rows(), {kSeed, 0, 512});
  const DistributionVerdict v = compare_distributions(ours, peer, true);
  EXPECT_EQ(v.failing_targets, 0);
  EXPECT_EQ(v.failing_pairs, 0);

  Matrix<double> shifted = ours;
  for (Eigen::Index t = 0; t < ours.cols(); ++t) {
    const double mean = ours.col(t).mean();
    const double sd = std::sqrt((ours.col(t).array() - mean).square().mean());
    shifted.col(t).array() += 0.25 * sd;
  }
  const DistributionVerdict control = compare_distributions(shifted, peer, false);
  EXPECT_EQ(control.failing_targets, ours.cols()) << "the distribution check misses a 0.25 sd bias";
}

}  // namespace
}  // namespace artabpfn::test_support
