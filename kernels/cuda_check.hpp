#pragma once
// Every CUDA call and launch is checked; a failure throws with the call, file and line.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace artabpfn::kernels {

class CudaError : public std::runtime_error {
 public:
  explicit CudaError(const std::string& what) : std::runtime_error(what) {}
};

inline void cuda_check(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess)
    throw CudaError(std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " +
                    cudaGetErrorString(status));
}

}  // namespace artabpfn::kernels

#define ARTABPFN_CUDA_CHECK(call) ::artabpfn::kernels::cuda_check((call), #call, __FILE__, __LINE__)
// After a kernel launch: reports bad launch configurations at once (not at the next sync).
#define ARTABPFN_CHECK_LAUNCH() ::artabpfn::kernels::cuda_check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)
