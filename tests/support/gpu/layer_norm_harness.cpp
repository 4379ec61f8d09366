#include "tests/support/gpu/layer_norm_harness.hpp"

#include "kernels/layer.hpp"
#include "reference/layer_ops.hpp"
#include "tests/support/gpu/device_calls.hpp"

namespace artabpfn::gpu_layer_test {

std::vector<float> gpu_layer_norm(const LayerNormCase& c) {
  DeviceBuffer<float> x(c.x), r(c.residual), w(c.weight), b(c.bias);
  GuardedOutput y(static_cast<std::size_t>(c.rows * c.width));
  kernels::layer_norm(x.data(), or_null(r), w.data(), b.data(), y.data(), c.rows, c.width, nullptr);
  device_sync();
  return y.checked_download("layer_norm");
}

template <class T>
Matrix<T> reference_layer_norm(const LayerNormCase& c) {
  Matrix<T> v = to_matrix<T>(c.x, c.rows, c.width);
  if (!c.residual.empty()) v += to_matrix<T>(c.residual, c.rows, c.width);
  return reference::layer_norm(reference::LayerNormParams<T>{to_row<T>(c.weight), to_row<T>(c.bias)}, v);
}

template Matrix<double> reference_layer_norm<double>(const LayerNormCase&);
template Matrix<float> reference_layer_norm<float>(const LayerNormCase&);

}  // namespace artabpfn::gpu_layer_test
