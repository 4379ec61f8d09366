#pragma once
// The scalar types the reference is instantiated for, and the few generic helpers it needs.
// Math functions are called unqualified after `using std::...` so that argument-dependent lookup
// finds Boost.Multiprecision's overloads for the multiprecision type.
#include <Eigen/Dense>

#include <cmath>
#include <limits>
#include <type_traits>

namespace artabpfn::reference {

template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <class T>
using RowVector = Eigen::Matrix<T, 1, Eigen::Dynamic>;

template <class T>
T negative_infinity() {
  return -std::numeric_limits<T>::infinity();
}

// A ratio of integers, exact in T up to T's rounding (1e-5 is T(1) / T(100000), not a double).
template <class T>
T ratio(long numerator, long denominator) {
  return T(numerator) / T(denominator);
}

template <class T>
T pi() {
  using std::atan;
  return T(4) * atan(T(1));
}

// Converts a reference value to double for reporting and comparison.
template <class T>
double to_double(const T& value) {
  return static_cast<double>(value);
}

}  // namespace artabpfn::reference
