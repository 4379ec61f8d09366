#include "tolerance/ratio_log.hpp"

#include <algorithm>
#include <cstdio>

#include "tolerance/quantile.hpp"

namespace artabpfn::tolerance {

void RatioLog::add(const std::string& name, const Check& check) { add(name, check.got.max_abs, check.bound); }

void RatioLog::add(const std::string& name, double error, const Bound& bound) {
  Entry& e = entries_[name];
  ++e.checks;
  if (bound.plain_error > 0.0) {
    e.ratios.push_back(error / bound.plain_error);
    if (error > bound.floor) e.decided.push_back(error / bound.plain_error);
  } else {
    ++e.exact_baseline;
  }
  e.largest_error = std::max(e.largest_error, error);
  e.factor = std::max(e.factor, bound.factor);
}

std::string RatioLog::summary(const std::string& name) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) return "";
  const Entry& e = it->second;
  std::vector<double> r = e.ratios, d = e.decided;
  const double median = nearest_rank_quantile(r, 0.5), p90 = nearest_rank_quantile(r, 0.9),
               p99 = nearest_rank_quantile(r, 0.99), max = nearest_rank_quantile(r, 1.0);
  char line[640];
  std::snprintf(line, sizeof line,
                "[ratio] %s: error / plain error over %zu checks (%zu with an exact plain baseline): median %.3g, "
                "p90 %.3g, p99 %.3g, max %.3g; max %.3g over the %zu checks whose error exceeds the floor; largest "
                "error %.3g; factor %.3g",
                name.c_str(), e.checks, e.exact_baseline, median, p90, p99, max, nearest_rank_quantile(d, 1.0),
                e.decided.size(), e.largest_error, e.factor);
  return line;
}

void RatioLog::print(const std::string& name) const {
  const std::string line = summary(name);
  if (line.empty()) return;
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

RatioLog& RatioLog::global() {
  static RatioLog log;
  return log;
}

}  // namespace artabpfn::tolerance
