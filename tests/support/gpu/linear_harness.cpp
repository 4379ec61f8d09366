#include "tests/support/gpu/linear_harness.hpp"

#include <algorithm>
#include <cmath>

#include "conformance/plain/arithmetic.hpp"
#include "conformance/plain/products.hpp"
#include "reference/layer_ops.hpp"
#include "tests/support/gpu/device_calls.hpp"
#include "tolerance/constants.hpp"
#include "tolerance/rule.hpp"

namespace artabpfn::gpu_layer_test {

LinearCase random_linear(Rng& rng, std::int64_t rows, int in, int out, bool with_bias, bool with_residual,
                         Epilogue act) {
  LinearCase c;
  c.rows = rows;
  c.in = in;
  c.out = out;
  c.act = act;
  const double x_scale = std::pow(10.0, rng.uniform(-2.0, 2.0));
  c.x = rng.normals(static_cast<std::size_t>(rows * in), rng.normal(0.0, 0.5), x_scale);
  c.weight = rng.normals(static_cast<std::size_t>(out) * in, 0.0, 1.0 / std::sqrt(double(in)));
  if (with_bias) c.bias = rng.normals(static_cast<std::size_t>(out), 0.0, 1.0);
  if (with_residual) c.residual = rng.normals(static_cast<std::size_t>(rows * out), 0.0, 1.0);
  return c;
}

double largest_term_sum(const LinearCase& c) {
  double top = 0.0;
  for (std::int64_t r = 0; r < c.rows; ++r)
    for (int o = 0; o < c.out; ++o) {
      double t = c.bias.empty() ? 0.0 : std::abs(double(c.bias[static_cast<std::size_t>(o)]));
      for (int k = 0; k < c.in; ++k)
        t += std::abs(double(c.x[static_cast<std::size_t>(r * c.in + k)]) *
                      double(c.weight[static_cast<std::size_t>(o) * c.in + k]));
      if (!c.residual.empty()) t += std::abs(double(c.residual[static_cast<std::size_t>(r * c.out + o)]));
      top = std::max(top, t);
    }
  return top;
}

double linear_floor(const LinearCase& c) {
  const tolerance::Floor& floor = c.act == Epilogue::kGelu ? tolerance::kLinearGeluFloor : tolerance::kLinearFloor;
  return floor.at(largest_term_sum(c));
}

std::vector<float> gpu_linear(const LinearCase& c) {
  DeviceBuffer<float> x(c.x), w(c.weight), b(c.bias), r(c.residual);
  GuardedOutput y(static_cast<std::size_t>(c.rows * c.out));
  kernels::linear(x.data(), w.data(), or_null(b), or_null(r), y.data(), c.rows, c.in, c.out, c.act, nullptr);
  device_sync();
  return y.checked_download("linear");
}

std::vector<float> gpu_tensor_core_linear(const LinearCase& c, kernels::TensorCoreArithmetic arithmetic) {
  DeviceBuffer<float> x(c.x), w(c.weight), b(c.bias), r(c.residual);
  GuardedOutput y(static_cast<std::size_t>(c.rows * c.out));
  kernels::tensor_core_linear(x.data(), w.data(), or_null(b), or_null(r), y.data(), c.rows, c.in, c.out, c.act,
                              arithmetic, nullptr);
  device_sync();
  return y.checked_download("tensor_core_linear");
}

template <class T>
Matrix<T> reference_linear(const LinearCase& c) {
  reference::LinearParams<T> p{to_matrix<T>(c.weight, c.out, c.in), RowVector<T>()};
  if (!c.bias.empty()) p.bias = to_row<T>(c.bias);
  Matrix<T> y = reference::apply_linear(p, to_matrix<T>(c.x, c.rows, c.in));
  if (c.act == Epilogue::kGelu) y = reference::gelu(y);
  if (!c.residual.empty()) y += to_matrix<T>(c.residual, c.rows, c.out);
  return y;
}

Matrix<float> reference_linear_tf32(const LinearCase& c) {
  LinearCase rounded = c;
  for (std::vector<float>* v : {&rounded.x, &rounded.weight})
    for (float& e : *v) e = conformance::plain::round_tf32_nearest(e);
  return reference_linear<float>(rounded);
}

Matrix<float> reference_linear_tf32x3(const LinearCase& c) {
  Matrix<float> y = conformance::plain::Products::tf32x3().times_transposed(to_matrix<float>(c.x, c.rows, c.in),
                                                                            to_matrix<float>(c.weight, c.out, c.in));
  if (!c.bias.empty()) y.rowwise() += to_row<float>(c.bias);
  if (c.act == Epilogue::kGelu) y = reference::gelu(y);
  if (!c.residual.empty()) y += to_matrix<float>(c.residual, c.rows, c.out);
  return y;
}

std::vector<float> tf32x3_baseline(const LinearCase& c) {
  const std::vector<double> exact = flat_double(reference_linear<double>(c));
  std::vector<float> float32 = flat_float(reference_linear<float>(c)), split = flat_float(reference_linear_tf32x3(c));
  return tolerance::compare(exact, split).max_abs > tolerance::compare(exact, float32).max_abs ? split : float32;
}

template Matrix<double> reference_linear<double>(const LinearCase&);
template Matrix<float> reference_linear<float>(const LinearCase&);

}  // namespace artabpfn::gpu_layer_test
