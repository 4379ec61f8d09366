#pragma once
// Host values of the layer kernels' tests: seeded random inputs, and the conversions between the
// kernels' flat float vectors and the reference's Eigen matrices.
#include <cstdint>
#include <random>
#include <vector>

#include "reference/scalar.hpp"

namespace artabpfn::gpu_layer_test {

using reference::Matrix;
using reference::RowVector;
using reference::Vector;

struct Rng {
  std::mt19937_64 engine;
  explicit Rng(std::uint64_t seed) : engine(seed) {}
  float normal(double mean, double sd) { return static_cast<float>(std::normal_distribution<double>(mean, sd)(engine)); }
  float uniform(double lo, double hi) { return static_cast<float>(std::uniform_real_distribution<double>(lo, hi)(engine)); }
  std::vector<float> normals(std::size_t n, double mean, double sd) {
    std::vector<float> v(n);
    for (float& x : v) x = normal(mean, sd);
    return v;
  }
  std::vector<float> uniforms(std::size_t n, double lo, double hi) {
    std::vector<float> v(n);
    for (float& x : v) x = uniform(lo, hi);
    return v;
  }
};

template <class T>
Matrix<T> to_matrix(const std::vector<float>& v, std::int64_t rows, std::int64_t cols) {
  Matrix<T> m(rows, cols);
  for (std::int64_t i = 0; i < rows * cols; ++i) m.data()[i] = T(v[static_cast<std::size_t>(i)]);
  return m;
}

template <class T>
RowVector<T> to_row(const std::vector<float>& v) {
  RowVector<T> r(static_cast<Eigen::Index>(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) r(static_cast<Eigen::Index>(i)) = T(v[i]);
  return r;
}

template <class T>
std::vector<double> flat_double(const Matrix<T>& m) {
  std::vector<double> out(static_cast<std::size_t>(m.size()));
  for (Eigen::Index i = 0; i < m.size(); ++i) out[static_cast<std::size_t>(i)] = static_cast<double>(m.data()[i]);
  return out;
}

template <class T>
std::vector<float> flat_float(const Matrix<T>& m) {
  std::vector<float> out(static_cast<std::size_t>(m.size()));
  for (Eigen::Index i = 0; i < m.size(); ++i) out[static_cast<std::size_t>(i)] = static_cast<float>(m.data()[i]);
  return out;
}

inline std::vector<double> widen(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

}  // namespace artabpfn::gpu_layer_test
