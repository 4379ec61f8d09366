#include <cuda_runtime.h>

#include <cstdio>

#include "kernels/device_info.hpp"

namespace artabpfn::kernels {

std::string gpu_unavailable_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) return std::string("cudaGetDeviceCount: ") + cudaGetErrorString(status);
  if (count == 0) return "no device found";
  return {};
}

std::string gpu_description() {
  if (!gpu_unavailable_reason().empty()) return "no GPU";
  int device = 0, driver = 0, runtime = 0;
  cudaDeviceProp prop{};
  cudaGetDevice(&device);
  cudaGetDeviceProperties(&prop, device);
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  char text[512];
  std::snprintf(text, sizeof text, "%s, compute %d.%d, driver %d.%d, runtime %d.%d", prop.name, prop.major, prop.minor,
                driver / 1000, driver % 1000 / 10, runtime / 1000, runtime % 1000 / 10);
  return text;
}

}  // namespace artabpfn::kernels
