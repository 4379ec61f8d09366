#pragma once
// The precisions the CPU implementation under test computes the attention contracts in, and the
// roundings each one applies (docs/conformance_vectors.md, "Mutation tests"; the precisions
// themselves are defined where the vectors freeze their tolerances):
//   float32  nothing rounded;
//   tf32     the operands of both products (Q and K for the scores, P and V for the output)
//            rounded to TF32, products and sums in float32;
//   bf16     the inputs (Q, K, V; a merge's partial outputs) and the softmax probabilities P
//   fp16     rounded to the format before the products, float32 sums, the outputs rounded to
//            the format, the LSE float32.
// Written from those definitions alone, independently of the plain implementations that set the
// tolerances, so that passing them says the tolerances are not too tight.
#include <string>

namespace artabpfn::conformance::cpu {

enum class Precision { kFloat32, kTf32, kBf16, kFp16 };

// "float32", "tf32", "bf16", "fp16": the names of the conformance check's --precision.
const char* precision_name(Precision p);
// The precision named by ARTABPFN_PRECISION (float32 when unset or empty); an unknown name
// throws std::invalid_argument listing the known ones.
Precision precision_from_environment();

// x rounded to nearest: TF32 (10 explicit mantissa bits, ties away from zero, as
// cvt.rna.tf32.f32), BF16 and FP16 (ties to even; FP16 overflows to infinity past 65504 and
// has subnormals below 2^-14).
float round_tf32(float x);
float round_bf16(float x);
float round_fp16(float x);

// An operand of a matrix product as precision p reads it (tf32, bf16, fp16 round; float32 not).
float round_operand(Precision p, float x);
// An input the contract hands over, as a kernel in precision p holds it (bf16 and fp16 round).
float round_input(Precision p, float x);
// An output as precision p stores it (bf16 and fp16 round; the LSE is never rounded).
inline float round_output(Precision p, float x) { return round_input(p, x); }

}  // namespace artabpfn::conformance::cpu
