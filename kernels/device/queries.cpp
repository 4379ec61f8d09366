// The device queries of kernels/device.hpp: whether a CUDA device is usable, what it is, and
// whether it launches thread block clusters.
#include <cuda_runtime.h>

#include <string>

#include "kernels/cuda_check.hpp"
#include "kernels/device.hpp"

namespace artabpfn::kernels {

std::string gpu_unavailable_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status == cudaSuccess && count > 0) return {};
  if (driver_cuda_version() == 0) return "no NVIDIA driver found";
  if (status != cudaSuccess) return std::string("cudaGetDeviceCount: ") + cudaGetErrorString(status);
  return "no device found";
}

int driver_cuda_version() {
  int driver = 0;
  return cudaDriverGetVersion(&driver) == cudaSuccess ? driver : 0;
}

std::string cuda_version_text(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

GpuInfo gpu_info() {
  int device = 0, driver = 0, runtime = 0;
  cudaDeviceProp prop{};
  ARTABPFN_CUDA_CHECK(cudaGetDevice(&device));
  ARTABPFN_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  ARTABPFN_CUDA_CHECK(cudaDriverGetVersion(&driver));
  ARTABPFN_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  GpuInfo info;
  info.name = prop.name;
  info.compute_capability = std::to_string(prop.major) + "." + std::to_string(prop.minor);
  info.driver_cuda_version = cuda_version_text(driver);
  info.runtime_version = cuda_version_text(runtime);
  info.sms = prop.multiProcessorCount;
  info.memory_bytes = static_cast<std::int64_t>(prop.totalGlobalMem);
  info.l2_bytes = prop.l2CacheSize;
  if (cudaDeviceGetAttribute(&info.sm_clock_khz, cudaDevAttrClockRate, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&info.memory_clock_khz, cudaDevAttrMemoryClockRate, device) != cudaSuccess) {
    cudaGetLastError();  // not reported by this driver: left at 0
    info.sm_clock_khz = info.memory_clock_khz = 0;
  }
  return info;
}

std::string gpu_description() {
  if (!gpu_unavailable_reason().empty()) return "no GPU";
  const GpuInfo info = gpu_info();
  return info.name + ", compute " + info.compute_capability + ", driver " + info.driver_cuda_version + ", runtime " +
         info.runtime_version;
}

bool device_has_clusters() {
  int device = 0, value = 0;
  if (cudaGetDevice(&device) != cudaSuccess || cudaDeviceGetAttribute(&value, cudaDevAttrClusterLaunch, device) != cudaSuccess) {
    cudaGetLastError();  // not left behind for a later check to find
    return false;
  }
  return value != 0;
}

}  // namespace artabpfn::kernels
