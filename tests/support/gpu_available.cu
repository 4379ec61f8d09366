#include <cuda_runtime.h>

#include "tests/support/gpu_available.hpp"

namespace artabpfn::testing {

std::string gpu_unavailable_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) return std::string("cudaGetDeviceCount: ") + cudaGetErrorString(status);
  if (count == 0) return "no device found";
  return {};
}

}  // namespace artabpfn::testing
