// select_device_from_ctest_resources (kernels/device.hpp): the card CTest's resource allocation
// gave a GPU test.
#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/device.hpp"

namespace artabpfn::kernels {

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

}  // namespace artabpfn::kernels
