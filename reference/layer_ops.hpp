#pragma once
// Row-wise building blocks of a layer (docs/model.md, "One layer"): linear maps, LayerNorm with the
// biased variance and eps 1e-5, and the exact (erf) GELU. Rows are samples; columns features.
// The matrix argument is a non-deduced context, so Eigen expressions convert to Matrix<T>.
#include <type_traits>

#include "reference/model_params.hpp"

namespace artabpfn::reference {

template <class T>
Matrix<T> apply_linear(const LinearParams<T>& p, const std::type_identity_t<Matrix<T>>& x) {
  Matrix<T> y = x * p.weight.transpose();
  if (p.bias.size() > 0) y.rowwise() += p.bias;
  return y;
}

template <class T>
Matrix<T> layer_norm(const LayerNormParams<T>& p, const std::type_identity_t<Matrix<T>>& x) {
  using std::sqrt;
  const T eps = ratio<T>(1, 100000);
  const T n = T(x.cols());
  Matrix<T> y(x.rows(), x.cols());
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const T mean = x.row(i).sum() / n;
    const RowVector<T> centered = x.row(i).array() - mean;
    const T variance = centered.squaredNorm() / n;
    y.row(i) = (centered / sqrt(variance + eps)).cwiseProduct(p.weight) + p.bias;
  }
  return y;
}

// u/2 (1 + erf(u/sqrt 2)) written as u/2 erfc(-u/sqrt 2): the same function without the
// cancellation of 1 + erf for very negative u (which would round GELU(-8.8) = -7.8e-18 to -0).
template <class T>
T gelu(const T& u) {
  using std::erfc;
  using std::sqrt;
  return u / T(2) * erfc(-u / sqrt(T(2)));
}

template <class T>
Matrix<T> gelu(const Matrix<T>& x) {
  return x.unaryExpr([](const T& u) { return gelu(u); });
}

}  // namespace artabpfn::reference
