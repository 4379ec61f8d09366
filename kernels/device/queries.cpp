#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>

#include "kernels/cuda_check.hpp"
#include "kernels/device_info.hpp"

namespace artabpfn::kernels {

std::string gpu_unavailable_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) return std::string("cudaGetDeviceCount: ") + cudaGetErrorString(status);
  if (count == 0) return "no device found";
  return {};
}

namespace {

std::string cuda_version(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

}  // namespace

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
  info.driver_cuda_version = cuda_version(driver);
  info.runtime_version = cuda_version(runtime);
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

std::string select_device_from_ctest_resources() {
  static const std::string outcome = []() -> std::string {
    const char* spec = std::getenv("CTEST_RESOURCE_GROUP_0_GPUS");
    if (spec == nullptr || *spec == '\0') return {};
    // "id:<id>,slots:<n>" (CTest's format); one GPU per test, so the first id is the card.
    const char* id_text = std::strstr(spec, "id:");
    if (id_text == nullptr) return std::string("CTEST_RESOURCE_GROUP_0_GPUS='") + spec + "' has no id";
    id_text += 3;
    char* end = nullptr;
    const long id = std::strtol(id_text, &end, 10);
    if (end == id_text || id < 0 || (*end != ',' && *end != '\0'))
      return std::string("CTEST_RESOURCE_GROUP_0_GPUS='") + spec + "': the id is not a device ordinal";
    // The id indexes the devices this process may see: the entries of CUDA_VISIBLE_DEVICES
    // where it is set, all devices otherwise.
    std::string physical = std::to_string(id);
    if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES"); visible != nullptr && *visible != '\0') {
      std::string list = visible;
      std::size_t start = 0;
      for (long k = 0; k < id && start != std::string::npos; ++k) {
        start = list.find(',', start);
        if (start != std::string::npos) ++start;
      }
      if (start == std::string::npos)
        return "CTEST_RESOURCE_GROUP_0_GPUS id " + std::to_string(id) + " is past CUDA_VISIBLE_DEVICES='" + list + "'";
      physical = list.substr(start, list.find(',', start) - start);
    }
    // Takes effect only if the CUDA runtime has not started in this process yet.
    setenv("CUDA_VISIBLE_DEVICES", physical.c_str(), 1);
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) return {};  // the caller reports it
    if (count == 1) return {};  // narrowed: the card is device 0
    // The runtime had started before the narrowing: select the card by ordinal instead.
    if (id >= count) return "CTEST_RESOURCE_GROUP_0_GPUS id " + std::to_string(id) + " but " + std::to_string(count) + " devices";
    if (const cudaError_t status = cudaSetDevice(static_cast<int>(id)); status != cudaSuccess)
      return std::string("cudaSetDevice: ") + cudaGetErrorString(status);
    return {};
  }();
  return outcome;
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
