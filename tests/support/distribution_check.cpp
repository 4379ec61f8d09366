#include "tests/support/distribution_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "artabpfn/safetensors.hpp"
#include "artabpfn/task_tensors.hpp"
#include "reference/task_batch.hpp"
#include "tests/support/fixtures_dir.hpp"

namespace artabpfn::test_support {
namespace {

using reference::Matrix;

constexpr double kFamilyLevel = 0.01;

double ks_statistic(std::vector<double> a, std::vector<double> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  std::size_t i = 0, j = 0;
  double d = 0;
  while (i < a.size() && j < b.size()) {
    const double x = std::min(a[i], b[j]);
    while (i < a.size() && a[i] <= x) ++i;
    while (j < b.size() && b[j] <= x) ++j;
    d = std::max(d, std::abs(double(i) / double(a.size()) - double(j) / double(b.size())));
  }
  return d;
}

double ks_critical(double level, std::size_t n, std::size_t m) {
  return std::sqrt(-std::log(level / 2) / 2) * std::sqrt(double(n + m) / double(n * m));
}

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = double(a.size());
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) ma += a[i] / n, mb += b[i] / n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

// Two-sided standard normal quantile for tail probability p/2, by bisection on erfc.
double normal_two_sided_quantile(double p) {
  double lo = 0, hi = 10;
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (std::erfc(mid / std::sqrt(2.0)) > p ? lo : hi) = mid;
  }
  return lo;
}

std::vector<double> column(const Matrix<double>& m, Eigen::Index c) {
  std::vector<double> v(static_cast<std::size_t>(m.rows()));
  for (Eigen::Index r = 0; r < m.rows(); ++r) v[static_cast<std::size_t>(r)] = m(r, c);
  return v;
}

}  // namespace

DistributionVerdict compare_distributions(const Matrix<double>& ours, const Matrix<double>& peer, bool print) {
  DistributionVerdict v;
  const Eigen::Index nt = peer.cols();
  const double d_crit = ks_critical(kFamilyLevel / double(nt), std::size_t(ours.rows()), std::size_t(peer.rows()));
  for (Eigen::Index t = 0; t < nt; ++t) {
    const double d = ks_statistic(column(ours, t), column(peer, t));
    if (print) std::printf("target %ld: KS D = %.4f (critical %.4f)\n", long(t), d, d_crit);
    if (d > d_crit) ++v.failing_targets;
  }
  const double z_crit = normal_two_sided_quantile(kFamilyLevel / double(nt - 1));
  const double se = std::sqrt(1.0 / double(ours.rows() - 3) + 1.0 / double(peer.rows() - 3));
  for (Eigen::Index t = 0; t + 1 < nt; ++t) {
    const double r1 = correlation(column(ours, t), column(ours, t + 1));
    const double r2 = correlation(column(peer, t), column(peer, t + 1));
    const double z = std::abs(std::atanh(r1) - std::atanh(r2)) / se;
    if (print) std::printf("targets %ld,%ld: corr %.4f vs peer %.4f, |z| = %.2f (critical %.2f)\n", long(t), long(t + 1), r1, r2, z, z_crit);
    if (z > z_crit) ++v.failing_pairs;
  }
  return v;
}

PeerSamples load_peer_samples() {
  const auto file = safetensors::File::read(fixtures_dir() / "peer" / "paper_samples.safetensors");
  TaskTensors tensors;
  tensors.x_context = file.to_f64("x_context");
  tensors.y_context = file.to_f64("y_context");
  tensors.x_target = file.to_f64("x_target");
  PeerSamples out;
  out.task = reference::split_tasks(validate_task_tensors(tensors, file.source())).at(0);
  const HostTensor<double> s = file.to_f64("samples");
  out.samples = Eigen::Map<const Matrix<double>>(s.data.data(), s.dim(0), s.dim(1));
  return out;
}

}  // namespace artabpfn::test_support
