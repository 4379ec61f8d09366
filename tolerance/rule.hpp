#pragma once
// The tolerance rule of the project (flash-attention's): a result passes when its largest error
// against the double (or 50-digit) reference is at most
//
//     limit = factor x plain_error + floor
//
// where plain_error is the largest error of a plain implementation of the same formula in the
// precision judged (the reference instantiated with float, for float32 results) against the same
// reference, and the floor is a few ulps of the largest reference magnitude, so that a case where
// the plain implementation happens to be (nearly) exact does not demand bitwise agreement. Both
// errors are maxima over one output (per output, not per element). Non-finite values must match
// the reference exactly (an LSE of -inf is -inf); NaN never passes.
//
// Users: the GPU properties and edge cases (tests/support/gpu/), the engine properties, the
// conformance vectors (which freeze limit, factor, plain error and floor per output at
// generation) and `artabpfn check` / `artabpfn verify`, which judge results against those frozen
// limits. Every factor and floor is in constants.hpp next to the measurements behind it.
#include <cstddef>
#include <span>
#include <string>

namespace artabpfn::tolerance {

// The format whose ulp measures a floor. Float32 results (tf32 ones included: TF32 rounds only
// the operands of products) are measured in float32 ulps; results rounded to bfloat16 or binary16
// in their own ulps (precision.hpp). Float64 ulps measure the double arithmetic's own error.
enum class UlpFormat { kFloat32, kFloat64, kBFloat16, kFloat16 };

// The ulp of 1 in `format` (its machine epsilon: 2^-(explicit mantissa bits)).
constexpr double ulp_of_one(UlpFormat format) {
  switch (format) {
    case UlpFormat::kFloat32: return 0x1p-23;
    case UlpFormat::kFloat64: return 0x1p-52;
    case UlpFormat::kBFloat16: return 0x1p-7;
    case UlpFormat::kFloat16: return 0x1p-10;
  }
  return 0.0;
}

// The magnitude a floor scales with: the largest finite |expected| value, or at least 1 (outputs
// that are O(1) by construction get the same floor however small the case's values are).
enum class Magnitude { kLargest, kLargestOrOne };

// A floor: `ulps` ulps of `format` at a magnitude (by default the largest finite |expected|).
struct Floor {
  double ulps = 0.0;
  Magnitude magnitude = Magnitude::kLargest;
  UlpFormat format = UlpFormat::kFloat32;

  double at(double largest) const;                   // at this magnitude
  double of(std::span<const double> expected) const;  // at the largest finite |expected|
};

// The largest finite |value| (0 for none).
double max_abs_finite(std::span<const double> values);

// The rule's limit for one output.
struct Bound {
  double factor = 0.0;
  double plain_error = 0.0;  // max |plain - reference| over the output
  double floor = 0.0;        // absolute
  double limit() const { return factor * plain_error + floor; }
};

// The rule's comparison: an error passes when it is at most the limit (NaN never passes).
inline bool within_limit(double error, double limit) { return error <= limit; }

// How much of its limit an error uses: error / limit, infinite where the limit is 0 (an exact
// output) and the error is not, NaN where the error is NaN (so a NaN result is never hidden).
double fraction_of_limit(double error, double limit);

// Errors of one output against the reference.
struct ErrorStats {
  double max_abs = 0.0;                  // largest |got - reference| over finite pairs
  double p99_abs = 0.0;                  // its 99th percentile
  std::size_t worst = 0;                 // index of the largest error
  std::size_t mismatched_nonfinite = 0;  // NaN anywhere, an infinity not matched, or a size difference
  std::size_t count = 0;
};

ErrorStats compare(std::span<const double> reference, std::span<const float> got);
ErrorStats compare(std::span<const double> reference, std::span<const double> got);

// One output judged by the rule.
struct Check {
  ErrorStats got, plain;  // each against the reference
  Bound bound;
  bool ok = false;        // no non-finite mismatch, same count as the plain baseline, within the limit
  std::string text;       // "what: max |err| ... limit ... = factor x plain error + floor"
  double ratio() const;   // got.max_abs / plain.max_abs; 0 where the plain baseline is exact
};

// `got` and the plain implementation's result `plain` against `reference`, with the limit
// factor x plain error + floor.
Check check(const std::string& what, std::span<const double> reference, std::span<const float> got,
            std::span<const float> plain, double factor, double floor);
// The same with the plain result held in double (float values widened exactly).
Check check(const std::string& what, std::span<const double> reference, std::span<const float> got,
            std::span<const double> plain, double factor, double floor);

// Two results of one computation by two paths (a and b), each checked against its reference:
// since both references are the double result of the same function, the two results may differ
// by at most the sum of their limits, element by element (triangle inequality); non-finite values
// must be equal. Fails where both paths share an error that their references share too.
Check check_agreement(const std::string& what, std::span<const float> a, const Check& a_check,
                      std::span<const float> b, const Check& b_check);

}  // namespace artabpfn::tolerance
