#pragma once
// The tolerance rule of the suite (flash-attention's; docs/accuracy.md, "The tolerance rule"): a
// result under test must be within `factor` times the error of a plain float32 implementation of
// the same formula, plus a tiny absolute floor, both measured against the double (or
// multiprecision) reference.
// Non-finite values must match exactly (an LSE of -inf is -inf); NaN never passes.
#include <cmath>
#include <span>
#include <string>
#include <vector>

namespace artabpfn::testing {

struct ErrorStats {
  double max_abs = 0.0;       // largest |got - ref| over finite pairs
  double p99_abs = 0.0;       // its 99th percentile
  std::size_t worst = 0;      // index of the largest error
  std::size_t mismatched_nonfinite = 0;  // NaN anywhere, or an infinity not matched exactly
  std::size_t count = 0;
};

template <class Got>
ErrorStats compare(std::span<const double> reference, std::span<const Got> got);

inline ErrorStats compare(const std::vector<double>& reference, const std::vector<float>& got) {
  return compare<float>(std::span<const double>(reference), std::span<const float>(got));
}
inline ErrorStats compare(const std::vector<double>& reference, const std::vector<double>& got) {
  return compare<double>(std::span<const double>(reference), std::span<const double>(got));
}

struct ErrorBound {
  double factor;  // times the plain float32 error
  double floor;   // absolute
  double limit(const ErrorStats& baseline) const { return factor * baseline.max_abs + floor; }
};

// "kernel: max 1.2e-7 (p99 3e-8) at 17, float32 baseline 9e-8, limit 1.9e-7" for failure messages.
std::string describe(const std::string& what, const ErrorStats& got, const ErrorStats& baseline, const ErrorBound& bound);

inline bool within(const ErrorStats& got, const ErrorStats& baseline, const ErrorBound& bound) {
  return got.mismatched_nonfinite == 0 && got.count == baseline.count && got.max_abs <= bound.limit(baseline);
}

// The rule for kernels that compute in double (the mixed-precision path, kernels/wide.hpp): each
// element within `floor` (the double arithmetic's own error) of the double reference, plus
// 2^-24 |truth| where the kernel rounds its output to float32 once; non-finite values equal, NaN
// never passes. On failure `where` describes the first failing element.
bool within_double_rounding(std::span<const double> truth, std::span<const double> got, double floor,
                            bool rounded_to_float, std::string& where);

}  // namespace artabpfn::testing
