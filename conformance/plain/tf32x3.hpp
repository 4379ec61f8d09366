#pragma once
// The split TF32 product, "tf32x3" (docs/precisions.md, "The engine's precisions on the CPU"): a
// float32 operand x is held as two TF32 values, hi = rna(x) and lo = rna(x - hi) (rna: to nearest,
// ties away from zero, as cvt.rna.tf32.f32), and a product a b as lo_a hi_b + hi_a lo_b + hi_a hi_b
// (each term exact in float32; lo_a lo_b is dropped). A dot product runs over k in chunks of 8, as
// a tensor core's k-step: a chunk's terms are summed in float32 from zero, first the cross terms
// lo_a hi_b (k ascending), then hi_a lo_b, then the big terms hi_a hi_b; the chunk sums of each
// block of 32 k are added in float32; the block sums are added in double and the total rounded to
// float32.
#include <cstddef>
#include <span>

namespace artabpfn::conformance::plain {

struct Tf32Split {
  float hi = 0.0f, lo = 0.0f;
};

Tf32Split split_tf32(float x);

// sum_k a_k b_k in the order above; a and b have the same length.
float tf32x3_dot(std::span<const Tf32Split> a, std::span<const Tf32Split> b);

inline constexpr std::size_t kTf32x3Chunk = 8;   // k per float32 chain from zero
inline constexpr std::size_t kTf32x3Block = 32;  // k per float32 sum of chunk sums

}  // namespace artabpfn::conformance::plain
