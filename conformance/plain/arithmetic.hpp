#pragma once
// How a plain implementation rounds (docs/precisions.md). Each precision (tolerance/precision.hpp)
// has one arithmetic, tf32 two: TF32 hardware handed float32 bits may round them to nearest or
// drop the low 13 bits, so the tf32 tolerance takes the larger error of the two arithmetics.
#include <string_view>
#include <vector>

#include "tolerance/precision.hpp"

namespace artabpfn::conformance::plain {

enum class Arithmetic {
  kFloat32,       // the reference instantiated with float
  kTf32Nearest,   // product operands rounded to TF32, to nearest (ties away from zero, as cvt.rna.tf32.f32)
  kTf32Truncated, // product operands truncated to TF32 (round toward zero)
  kBf16,          // attention inputs and probabilities rounded to bfloat16 (to nearest even), output too
  kFp16,          // the same with binary16
};

// "float32", "tf32-rn", "tf32-rz", "bf16", "fp16".
std::string_view arithmetic_name(Arithmetic arithmetic);
// The arithmetic of a name above; throws InputError listing the names for any other text.
Arithmetic parse_arithmetic(std::string_view name);
// The arithmetics whose largest error sets a precision's tolerance.
std::vector<Arithmetic> arithmetics(tolerance::Precision precision);
tolerance::Precision precision_of(Arithmetic arithmetic);

// Roundings of a float32 value (NaN and infinities pass through).
float round_tf32_nearest(float x);    // 10 explicit mantissa bits, ties away from zero
float round_tf32_truncated(float x);  // 10 explicit mantissa bits, toward zero
float round_bf16(float x);            // 7 explicit mantissa bits, ties to even
float round_fp16(float x);            // binary16: ties to even, subnormals below 2^-14, infinity past 65504

// A matrix product's operand (an attention input, a probability, an activation or weight of a
// linear map) as `arithmetic` rounds it; float32 leaves it.
float round_operand(Arithmetic arithmetic, float x);
// A value as `arithmetic` stores it (an attention output, an input of the merge): rounded to the
// format for bf16 and fp16; float32 and tf32 store float32.
float round_stored(Arithmetic arithmetic, float x);

}  // namespace artabpfn::conformance::plain
