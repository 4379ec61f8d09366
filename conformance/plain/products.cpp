#include "conformance/plain/products.hpp"

#include <vector>

#include "conformance/plain/tf32x3.hpp"

namespace artabpfn::conformance::plain {
namespace {

// The rows of m, each as its splits (m is row-major: a row is contiguous).
std::vector<Tf32Split> split_all(const Products::Matrix& m) {
  std::vector<Tf32Split> out(std::size_t(m.size()));
  for (Eigen::Index i = 0; i < m.size(); ++i) out[std::size_t(i)] = split_tf32(m.data()[i]);
  return out;
}

// a b^T with every element a tf32x3_dot of a row of a and a row of b: each output depends only on
// its own row of a and on b.
Products::Matrix split_times_transposed(const Products::Matrix& a, const Products::Matrix& b) {
  const std::vector<Tf32Split> as = split_all(a), bs = split_all(b);
  const std::size_t k = std::size_t(a.cols());
  Products::Matrix out(a.rows(), b.rows());
  for (Eigen::Index i = 0; i < a.rows(); ++i)
    for (Eigen::Index j = 0; j < b.rows(); ++j)
      out(i, j) = tf32x3_dot(std::span(as).subspan(std::size_t(i) * k, k), std::span(bs).subspan(std::size_t(j) * k, k));
  return out;
}

}  // namespace

Products Products::tf32x3() {
  Products p(Arithmetic::kFloat32);
  p.split_ = true;
  return p;
}

float Products::operand(float x) const { return split_ ? x : round_operand(arithmetic_, x); }

float Products::stored(float x) const { return split_ ? x : round_stored(arithmetic_, x); }

Products::Matrix Products::rounded(const Matrix& x) const {
  return x.unaryExpr([this](float v) { return operand(v); });
}

Products::Matrix Products::times_transposed(const Matrix& a, const Matrix& b, float scale) const {
  if (split_) {
    Matrix out = split_times_transposed(a, b);
    if (scale != 1.0f) out *= scale;
    return out;
  }
  const Matrix ar = rounded(a), br = rounded(b);
  if (scale == 1.0f) return ar * br.transpose();
  // Written as one expression: Eigen may fold the scale into an operand of a small product, as
  // it did when the frozen tolerance baselines were computed.
  return (ar * br.transpose()) * scale;
}

Products::Matrix Products::times(const Matrix& a, const Matrix& b) const {
  if (split_) return split_times_transposed(a, Matrix(b.transpose()));
  // The rounding of a stays an expression: Eigen then sums small products in the order that the
  // frozen tolerance baselines were computed with (an evaluated operand may be summed otherwise).
  const Matrix br = rounded(b);
  return a.unaryExpr([this](float v) { return operand(v); }) * br;
}

}  // namespace artabpfn::conformance::plain
