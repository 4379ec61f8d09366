#include "tests/support/error_bound.hpp"

#include <algorithm>
#include <cstdio>

namespace artabpfn::testing {

template <class Got>
ErrorStats compare(std::span<const double> reference, std::span<const Got> got) {
  ErrorStats s;
  s.count = std::min(reference.size(), got.size());
  if (reference.size() != got.size()) s.mismatched_nonfinite += std::max(reference.size(), got.size()) - s.count;
  std::vector<double> errors;
  errors.reserve(s.count);
  for (std::size_t i = 0; i < s.count; ++i) {
    const double r = reference[i], g = static_cast<double>(got[i]);
    if (std::isnan(g) || std::isnan(r) || std::isinf(r) || std::isinf(g)) {
      if (std::isnan(g) || std::isnan(r) || r != g) ++s.mismatched_nonfinite;
      continue;
    }
    const double e = std::abs(g - r);
    if (e > s.max_abs) {
      s.max_abs = e;
      s.worst = i;
    }
    errors.push_back(e);
  }
  if (!errors.empty()) {
    const std::size_t k = (errors.size() * 99) / 100;
    std::nth_element(errors.begin(), errors.begin() + static_cast<std::ptrdiff_t>(std::min(k, errors.size() - 1)),
                     errors.end());
    s.p99_abs = errors[std::min(k, errors.size() - 1)];
  }
  return s;
}

template ErrorStats compare<float>(std::span<const double>, std::span<const float>);
template ErrorStats compare<double>(std::span<const double>, std::span<const double>);

std::string describe(const std::string& what, const ErrorStats& got, const ErrorStats& baseline,
                     const ErrorBound& bound) {
  char line[512];
  std::snprintf(line, sizeof line,
                "%s: max |err| %.3g (p99 %.3g) at element %zu of %zu, non-finite mismatches %zu; "
                "float32 baseline max %.3g; limit %.3g = %.3g x baseline + %.3g",
                what.c_str(), got.max_abs, got.p99_abs, got.worst, got.count, got.mismatched_nonfinite,
                baseline.max_abs, bound.limit(baseline), bound.factor, bound.floor);
  return line;
}

bool within_double_rounding(std::span<const double> truth, std::span<const double> got, double floor,
                            bool rounded_to_float, std::string& where) {
  if (truth.size() != got.size()) {
    where = "sizes " + std::to_string(got.size()) + " and " + std::to_string(truth.size()) + " differ";
    return false;
  }
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const double t = truth[i], g = got[i];
    const double d = std::abs(g - t);
    const bool ok = std::isfinite(t) ? d <= floor + (rounded_to_float ? std::ldexp(std::abs(t), -24) : 0.0)
                                     : (g == t);  // -inf == -inf; NaN never equals
    if (ok) continue;
    char line[256];
    std::snprintf(line, sizeof line, "element %zu: got %.17g, double reference %.17g, |d| %.3g, floor %.3g", i, g, t,
                  d, floor);
    where = line;
    return false;
  }
  return true;
}

}  // namespace artabpfn::testing
