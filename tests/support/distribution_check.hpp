#pragma once
// Checks that two sets of joint samples [n, Nt] come from the same distribution, for samplers
// whose random streams differ (so never sample by sample):
//   - per-target two-sample Kolmogorov-Smirnov test at family-wise level 0.01 (Bonferroni over
//     the Nt targets: critical D = c(a) sqrt((n+m)/(nm)), c(a) = sqrt(-ln(a/2)/2));
//   - correlation of neighbouring targets: Fisher z difference within the two-sided 0.01/(Nt-1)
//     normal quantile.
// And the peer's samples of fixtures/peer/paper_samples.safetensors with their task.
#include "reference/scalar.hpp"
#include "reference/task.hpp"

namespace artabpfn::test_support {

struct DistributionVerdict {
  int failing_targets = 0, failing_pairs = 0;
};

DistributionVerdict compare_distributions(const reference::Matrix<double>& ours, const reference::Matrix<double>& peer,
                                          bool print);

struct PeerSamples {
  reference::TaskInputs task;
  reference::Matrix<double> samples;  // [4096, 8]
};
PeerSamples load_peer_samples();

}  // namespace artabpfn::test_support
