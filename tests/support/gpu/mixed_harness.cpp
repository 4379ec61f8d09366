#include "tests/support/gpu/mixed_harness.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/mixed.hpp"
#include "tests/support/gpu/device_calls.hpp"

namespace artabpfn::gpu_layer_test {

std::vector<double> gpu_mixed_linear(const LinearCase& c, MixedIo io) {
  DeviceBuffer<float> xf(c.x), w(c.weight), b(c.bias);
  DeviceBuffer<double> xd(widen(c.x)), r(widen(c.residual));
  const std::size_t n = static_cast<std::size_t>(c.rows * c.out);
  const float* bias = b.size() > 0 ? b.data() : nullptr;
  const double* residual = r.size() > 0 ? r.data() : nullptr;
  if (io == MixedIo::kDoubleToFloat) {
    GuardedOutput y(n);
    kernels::mixed::linear(xd.data(), w.data(), bias, residual, y.data(), c.rows, c.in, c.out, c.act, nullptr);
    device_sync();
    return widen(y.checked_download("mixed::linear"));
  }
  kernels::GuardedDoubleOutput y(n);
  if (io == MixedIo::kFloatToDouble)
    kernels::mixed::linear(xf.data(), w.data(), bias, residual, y.data(), c.rows, c.in, c.out, c.act, nullptr);
  else
    kernels::mixed::linear(xd.data(), w.data(), bias, residual, y.data(), c.rows, c.in, c.out, c.act, nullptr);
  device_sync();
  return y.checked_download("mixed::linear");
}

double mixed_linear_floor(const LinearCase& c) { return linear_floor(c) * std::ldexp(double(c.in + 16), -29); }

std::vector<double> gpu_mixed_layer_norm(const LayerNormCase& c, bool in_place) {
  DeviceBuffer<float> w(c.weight), b(c.bias);
  DeviceBuffer<double> r(widen(c.residual));
  kernels::GuardedDoubleOutput y(static_cast<std::size_t>(c.rows * c.width));
  const double* residual = r.size() > 0 ? r.data() : nullptr;
  if (in_place) {
    ARTABPFN_CUDA_CHECK(cudaMemcpy(y.data(), widen(c.x).data(), c.x.size() * sizeof(double), cudaMemcpyHostToDevice));
    kernels::mixed::layer_norm(y.data(), residual, w.data(), b.data(), y.data(), c.rows, c.width, nullptr);
  } else {
    DeviceBuffer<double> x(widen(c.x));
    kernels::mixed::layer_norm(x.data(), residual, w.data(), b.data(), y.data(), c.rows, c.width, nullptr);
  }
  device_sync();
  return y.checked_download("mixed::layer_norm");
}

double mixed_layer_norm_floor(const LayerNormCase& c) {
  double condition = 1.0, w_max = 0.0, b_max = 0.0;
  for (std::int64_t i = 0; i < c.rows; ++i) {
    double sum = 0, top = 0;
    std::vector<double> v(static_cast<std::size_t>(c.width));
    for (int j = 0; j < c.width; ++j) {
      const std::size_t k = static_cast<std::size_t>(i * c.width + j);
      v[std::size_t(j)] = double(c.x[k]) + (c.residual.empty() ? 0.0 : double(c.residual[k]));
      sum += v[std::size_t(j)];
      top = std::max(top, std::abs(v[std::size_t(j)]));
    }
    double var = 0;
    for (double x : v) var += (x - sum / c.width) * (x - sum / c.width);
    condition = std::max(condition, top / std::sqrt(var / c.width + 1e-5));
  }
  for (float w : c.weight) w_max = std::max(w_max, std::abs(double(w)));
  for (float b : c.bias) b_max = std::max(b_max, std::abs(double(b)));
  return std::ldexp(c.width * condition * std::max(1.0, w_max), -44) + std::ldexp(b_max, -50);
}

}  // namespace artabpfn::gpu_layer_test
