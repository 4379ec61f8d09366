#pragma once
// The K-component Gaussian mixture head (docs/model.md, "The mixture head"): parameters, log
// density, sampling.
#include <algorithm>

#include "artabpfn/random_stream.hpp"
#include "reference/products.hpp"

namespace artabpfn::reference {

template <class T>
struct Mixture {
  Vector<T> mean, std, log_weight;  // [K]; exp(log_weight) sums to 1
};

template <class T>
T softplus(const T& u) {
  using std::exp;
  using std::log1p;
  return u > T(20) ? u : log1p(exp(u));
}

// -inf when every term is -inf (a value so far outside the mixture that every component's log
// density overflows to -inf): exp(-inf - -inf) would be NaN.
template <class T>
T log_sum_exp(const Vector<T>& v) {
  using std::exp;
  using std::log;
  const T m = v.maxCoeff();
  if (m == negative_infinity<T>()) return m;
  T sum = T(0);
  for (Eigen::Index i = 0; i < v.size(); ++i) sum += exp(v(i) - m);
  return m + log(sum);
}

// The head's rows r = head_out(GELU(head_in z)) [n, 3K] of z [n, D], products as products.hpp.
template <class T, class Products = ExactProducts<T>>
Matrix<T> mixture_rows(const ModelParams<T>& p, const Matrix<T>& z, const Products& products = {}) {
  return products.linear(p.head_out, gelu(products.linear(p.head_in, z)));
}

// Mixture parameters from the head's rows r [n, 3K]: component k reads r(i, 3k) (mean),
// r(i, 3k + 1) (std), r(i, 3k + 2) (weight logit).
template <class T>
std::vector<Mixture<T>> mixture_from_rows(const ModelParams<T>& p, const Matrix<T>& r) {
  const int k_count = p.config.num_components;
  std::vector<Mixture<T>> out(static_cast<std::size_t>(r.rows()));
  for (Eigen::Index i = 0; i < r.rows(); ++i) {
    Mixture<T>& m = out[static_cast<std::size_t>(i)];
    m.mean.resize(k_count);
    m.std.resize(k_count);
    Vector<T> logits(k_count);
    for (int k = 0; k < k_count; ++k) {
      m.mean(k) = r(i, 3 * k) + p.mean_bias(k);
      m.std(k) = std::min(softplus<T>(r(i, 3 * k + 1) + p.std_bias(k)), T(2)) + ratio<T>(1, 1000);
      logits(k) = r(i, 3 * k + 2) + p.weight_bias(k);
    }
    m.log_weight = logits.array() - log_sum_exp(logits);
  }
  return out;
}

// Mixture parameters at each row of z [n, D].
template <class T, class Products = ExactProducts<T>>
std::vector<Mixture<T>> mixture_head(const ModelParams<T>& p, const Matrix<T>& z, const Products& products = {}) {
  return mixture_from_rows(p, mixture_rows(p, z, products));
}

template <class T>
T log_density(const Mixture<T>& m, const T& y) {
  using std::log;
  const T log_two_pi = log(T(2) * pi<T>());
  Vector<T> terms(m.mean.size());
  for (Eigen::Index k = 0; k < terms.size(); ++k) {
    const T z = (y - m.mean(k)) / m.std(k);
    terms(k) = m.log_weight(k) - (log_two_pi + T(2) * log(m.std(k)) + z * z) / T(2);
  }
  return log_sum_exp(terms);
}

// The random_stream contract's component pick: the smallest k with u < cumulative weight,
// compared in the finer of double and T so the uniform is never rounded.
template <class T>
Eigen::Index pick_component(const Mixture<T>& m, double uniform) {
  using std::exp;
  T cumulative = T(0);
  for (Eigen::Index k = 0; k < m.log_weight.size(); ++k) {
    cumulative += exp(m.log_weight(k));
    const bool below = sizeof(T) < sizeof(double) ? uniform < static_cast<double>(cumulative) : T(uniform) < cumulative;
    if (below) return k;
  }
  return m.log_weight.size() - 1;
}

template <class T>
T sample_mixture(const Mixture<T>& m, const random_stream::Draw& draw) {
  const Eigen::Index k = pick_component(m, draw.component_uniform);
  return m.mean(k) + m.std(k) * T(draw.normal);
}

}  // namespace artabpfn::reference
