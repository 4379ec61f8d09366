#pragma once
// How a plain implementation multiplies matrices (docs/precisions.md): either the operands rounded
// as an arithmetic rounds them (arithmetic.hpp: float32 leaves them, TF32, bf16 and fp16 round
// them) and a float32 matrix product, or the split TF32 product (tf32x3.hpp). Every matrix product
// of the plain attention and model jobs goes through one of these objects, so that what a product
// computes is written once.
#include "conformance/plain/arithmetic.hpp"
#include "reference/reference.hpp"

namespace artabpfn::conformance::plain {

class Products {
 public:
  using Matrix = reference::Matrix<float>;

  // Operands rounded by round_operand(arithmetic), products and sums in float32.
  explicit Products(Arithmetic arithmetic) : arithmetic_(arithmetic) {}
  // The split TF32 product; values are stored in float32.
  static Products tf32x3();

  // An operand as it enters a float32 product (the split product keeps it).
  float operand(float x) const;
  // A value as the arithmetic stores it (round_stored; float32 for the split product).
  float stored(float x) const;

  Matrix times_transposed(const Matrix& a, const Matrix& b, float scale = 1.0f) const;  // (a b^T) scale
  Matrix times(const Matrix& a, const Matrix& b) const;             // a b

 private:
  Matrix rounded(const Matrix& x) const;

  Arithmetic arithmetic_ = Arithmetic::kFloat32;
  bool split_ = false;
};

}  // namespace artabpfn::conformance::plain
