#include "tolerance/rule.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "tolerance/quantile.hpp"

namespace artabpfn::tolerance {
namespace {

template <class Got>
ErrorStats compare_values(std::span<const double> reference, std::span<const Got> got) {
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
  s.p99_abs = nearest_rank_quantile(errors, 0.99);
  return s;
}

std::string describe(const std::string& what, const ErrorStats& got, const char* limit_text) {
  char line[512];
  std::snprintf(line, sizeof line, "%s: max |err| %.3g (p99 %.3g) at element %zu of %zu, non-finite mismatches %zu; %s",
                what.c_str(), got.max_abs, got.p99_abs, got.worst, got.count, got.mismatched_nonfinite, limit_text);
  return line;
}

Check judge(const std::string& what, const ErrorStats& got, const ErrorStats& plain, double factor, double floor) {
  Check c;
  c.got = got;
  c.plain = plain;
  c.bound = Bound{factor, plain.max_abs, floor};
  c.ok = got.mismatched_nonfinite == 0 && got.count == plain.count && within_limit(got.max_abs, c.bound.limit());
  char limit[256];
  std::snprintf(limit, sizeof limit, "plain baseline max %.3g; limit %.3g = %.3g x baseline + %.3g", plain.max_abs,
                c.bound.limit(), factor, floor);
  c.text = describe(what, got, limit);
  return c;
}

}  // namespace

double Floor::at(double largest) const {
  return ulps * ulp_of_one(format) * (magnitude == Magnitude::kLargestOrOne ? std::max(1.0, largest) : largest);
}

double Floor::of(std::span<const double> expected) const { return at(max_abs_finite(expected)); }

double max_abs_finite(std::span<const double> values) {
  double m = 0.0;
  for (double x : values)
    if (std::isfinite(x)) m = std::max(m, std::abs(x));
  return m;
}

double fraction_of_limit(double error, double limit) {
  if (std::isnan(error)) return error;
  if (limit > 0) return error / limit;
  return error > 0 ? std::numeric_limits<double>::infinity() : 0.0;
}

ErrorStats compare(std::span<const double> reference, std::span<const float> got) {
  return compare_values(reference, got);
}
ErrorStats compare(std::span<const double> reference, std::span<const double> got) {
  return compare_values(reference, got);
}

double Check::ratio() const { return plain.max_abs > 0.0 ? got.max_abs / plain.max_abs : 0.0; }

Check check(const std::string& what, std::span<const double> reference, std::span<const float> got,
            std::span<const float> plain, double factor, double floor) {
  return judge(what, compare(reference, got), compare(reference, plain), factor, floor);
}

Check check(const std::string& what, std::span<const double> reference, std::span<const float> got,
            std::span<const double> plain, double factor, double floor) {
  return judge(what, compare(reference, got), compare(reference, plain), factor, floor);
}

Check check_agreement(const std::string& what, std::span<const float> a, const Check& a_check,
                      std::span<const float> b, const Check& b_check) {
  const std::vector<double> a_wide(a.begin(), a.end());
  Check c;
  c.got = compare(a_wide, b);
  c.plain.count = c.got.count;
  c.bound = Bound{0.0, 0.0, a_check.bound.limit() + b_check.bound.limit()};
  c.ok = c.got.mismatched_nonfinite == 0 && within_limit(c.got.max_abs, c.bound.limit());
  char limit[256];
  std::snprintf(limit, sizeof limit, "limit %.3g = the two paths' limits %.3g + %.3g", c.bound.limit(),
                a_check.bound.limit(), b_check.bound.limit());
  c.text = describe(what, c.got, limit);
  return c;
}

}  // namespace artabpfn::tolerance
