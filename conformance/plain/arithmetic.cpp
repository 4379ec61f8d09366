#include "conformance/plain/arithmetic.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "artabpfn/error.hpp"

namespace artabpfn::conformance::plain {
namespace {

constexpr Arithmetic kAll[] = {Arithmetic::kFloat32, Arithmetic::kTf32Nearest, Arithmetic::kTf32Truncated,
                               Arithmetic::kBf16, Arithmetic::kFp16};

// x with its low `dropped` bits rounded off, to nearest with ties to even (a carry into the
// exponent is the correct result).
float round_to_nearest_even(float x, int dropped) {
  if (!std::isfinite(x)) return x;
  std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  const std::uint32_t half = (1u << (dropped - 1)) - 1u;
  bits += half + ((bits >> dropped) & 1u);
  bits &= ~((1u << dropped) - 1u);
  return std::bit_cast<float>(bits);
}

}  // namespace

std::string_view arithmetic_name(Arithmetic arithmetic) {
  switch (arithmetic) {
    case Arithmetic::kFloat32: return "float32";
    case Arithmetic::kTf32Nearest: return "tf32-rn";
    case Arithmetic::kTf32Truncated: return "tf32-rz";
    case Arithmetic::kBf16: return "bf16";
    case Arithmetic::kFp16: return "fp16";
  }
  return "?";
}

Arithmetic parse_arithmetic(std::string_view name) {
  std::string names;
  for (Arithmetic a : kAll) {
    if (arithmetic_name(a) == name) return a;
    names += (names.empty() ? "" : ", ") + std::string(arithmetic_name(a));
  }
  throw InputError("unknown arithmetic '" + std::string(name) + "'; the arithmetics are: " + names);
}

std::vector<Arithmetic> arithmetics(tolerance::Precision precision) {
  switch (precision) {
    case tolerance::Precision::kFloat32: return {Arithmetic::kFloat32};
    case tolerance::Precision::kTf32: return {Arithmetic::kTf32Nearest, Arithmetic::kTf32Truncated};
    case tolerance::Precision::kBf16: return {Arithmetic::kBf16};
    case tolerance::Precision::kFp16: return {Arithmetic::kFp16};
  }
  return {};
}

tolerance::Precision precision_of(Arithmetic arithmetic) {
  switch (arithmetic) {
    case Arithmetic::kTf32Nearest:
    case Arithmetic::kTf32Truncated: return tolerance::Precision::kTf32;
    case Arithmetic::kBf16: return tolerance::Precision::kBf16;
    case Arithmetic::kFp16: return tolerance::Precision::kFp16;
    default: return tolerance::Precision::kFloat32;
  }
}

float round_tf32_nearest(float x) {
  if (!std::isfinite(x)) return x;
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  return std::bit_cast<float>((bits + 0x1000u) & 0xffffe000u);  // half of the dropped 13 bits, then drop
}

float round_tf32_truncated(float x) {
  if (!std::isfinite(x)) return x;
  return std::bit_cast<float>(std::bit_cast<std::uint32_t>(x) & 0xffffe000u);
}

float round_bf16(float x) { return round_to_nearest_even(x, 16); }

float round_fp16(float x) {
  if (!std::isfinite(x)) return x;
  if (std::abs(x) < 0x1p-14f) return std::nearbyint(x * 0x1p24f) * 0x1p-24f;  // subnormals: multiples of 2^-24
  const float r = round_to_nearest_even(x, 13);
  return std::abs(r) > 65504.0f ? std::copysign(std::numeric_limits<float>::infinity(), x) : r;
}

float round_operand(Arithmetic arithmetic, float x) {
  switch (arithmetic) {
    case Arithmetic::kTf32Nearest: return round_tf32_nearest(x);
    case Arithmetic::kTf32Truncated: return round_tf32_truncated(x);
    case Arithmetic::kBf16: return round_bf16(x);
    case Arithmetic::kFp16: return round_fp16(x);
    default: return x;
  }
}

float round_stored(Arithmetic arithmetic, float x) {
  return arithmetic == Arithmetic::kBf16 || arithmetic == Arithmetic::kFp16 ? round_operand(arithmetic, x) : x;
}

}  // namespace artabpfn::conformance::plain
