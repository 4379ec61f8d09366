#include "conformance/float32_cpu/precision.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>

namespace artabpfn::conformance::cpu {
namespace {

// x rounded to a binary format of `digits` significand bits (the implicit one included) whose
// smallest normal number is 2^(min_exponent - 1) (below it the quantum stays that of the
// smallest binade: subnormals) and whose largest finite number is max_finite (beyond it:
// infinity). Scaling by the quantum is exact, so the rounding is that of nearbyint (to even)
// or round (away from zero).
float round_to_format(float x, int digits, int min_exponent, float max_finite, bool ties_away) {
  if (!std::isfinite(x) || x == 0.0f) return x;
  int exponent = 0;
  std::frexp(x, &exponent);  // |x| in [2^(exponent-1), 2^exponent)
  const double quantum = std::ldexp(1.0, std::max(exponent, min_exponent) - digits);
  const double steps = double(x) / quantum;
  const double rounded = (ties_away ? std::round(steps) : std::nearbyint(steps)) * quantum;
  if (std::fabs(rounded) > double(max_finite)) return std::copysign(std::numeric_limits<float>::infinity(), x);
  return float(rounded);
}

}  // namespace

Precision precision_from_environment() {
  const char* value = std::getenv("ARTABPFN_PRECISION");
  if (!value || !*value) return Precision::kFloat32;
  if (const auto p = tolerance::parse_precision(value)) return *p;
  throw std::invalid_argument("ARTABPFN_PRECISION=" + std::string(value) + " is not a precision (known: " +
                              tolerance::precision_names() + ")");
}

float round_tf32(float x) {
  return round_to_format(x, 11, std::numeric_limits<float>::min_exponent, std::numeric_limits<float>::max(), true);
}
float round_bf16(float x) { return round_to_format(x, 8, std::numeric_limits<float>::min_exponent, 0x1.fep127f, false); }
float round_fp16(float x) { return round_to_format(x, 11, -13, 0x1.ffcp15f, false); }  // 65504

float round_operand(Precision p, float x) {
  switch (p) {
    case Precision::kFloat32: return x;
    case Precision::kTf32: return round_tf32(x);
    case Precision::kBf16: return round_bf16(x);
    case Precision::kFp16: return round_fp16(x);
  }
  return x;
}

float round_input(Precision p, float x) {
  return p == Precision::kBf16 || p == Precision::kFp16 ? round_operand(p, x) : x;
}

}  // namespace artabpfn::conformance::cpu
