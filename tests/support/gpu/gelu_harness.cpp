#include "tests/support/gpu/gelu_harness.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/layer.hpp"
#include "tests/support/gpu/device_calls.hpp"
#include "tolerance/constants.hpp"

namespace artabpfn::gpu_layer_test {

std::vector<float> gpu_gelu(const std::vector<float>& x) {
  DeviceBuffer<float> in(x);
  GuardedOutput y(x.size());
  kernels::gelu(in.data(), y.data(), static_cast<std::int64_t>(x.size()), nullptr);
  device_sync();
  return y.checked_download("gelu");
}

double gelu_floor(const std::vector<float>& x, const std::vector<double>& reference) {
  double top = 0.0;
  for (float v : x) top = std::max(top, std::abs(double(v)));
  return std::max(tolerance::kLayerFloor.of(reference), tolerance::kGeluReferenceFloor.at(top));
}

}  // namespace artabpfn::gpu_layer_test
