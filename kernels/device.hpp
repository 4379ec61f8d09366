#pragma once
// The CUDA device this process uses (kernels/device/): whether one is usable here (the engine falls
// back to the CPU reference and GPU tests skip when it is not), what it is and what it can launch,
// and, under CTest, which card a GPU test was given.
#include <cstdint>
#include <string>

namespace artabpfn::kernels {

// Empty when a CUDA device is usable; "no NVIDIA driver found" where the machine has no driver
// (the CUDA runtime would say its version is insufficient); otherwise the runtime's reason.
std::string gpu_unavailable_reason();

// The CUDA version the installed driver supports, as CUDA encodes it (13000 for 13.0); 0 where no
// driver is installed (the runtime's documented answer).
int driver_cuda_version();
// A CUDA-encoded version as text: 13000 -> "13.0", 12080 -> "12.8".
std::string cuda_version_text(int version);

// Whether the current device launches thread block clusters (sm_90 and later). Asked at every call
// (two cheap host queries), so that a process using devices of different architectures gets each
// one's answer; false where no device is usable.
bool device_has_clusters();

// The current device, for reports (verify's environment, the benchmarks' JSON).
struct GpuInfo {
  std::string name;                      // "NVIDIA H100 80GB HBM3"
  std::string compute_capability;        // "9.0"
  std::string driver_cuda_version;       // the CUDA version the driver supports, "13.0"
  std::string runtime_version;           // the CUDA runtime linked in, "13.0"
  int sms = 0;
  std::int64_t memory_bytes = 0, l2_bytes = 0;
  int sm_clock_khz = 0, memory_clock_khz = 0;  // 0 where the driver does not report them
};
// Throws CudaError when no device is usable (ask gpu_unavailable_reason() first).
GpuInfo gpu_info();
// "NVIDIA H100 80GB HBM3, compute 9.0, driver 13.0, runtime 13.0", or "no GPU".
std::string gpu_description();

// Under `ctest --resource-spec-file`, a test that holds one unit of the `gpus` resource finds
// its card in CTEST_RESOURCE_GROUP_0_GPUS ("id:2,slots:1"; the id is a CUDA device ordinal as
// this process would see it). Makes that card the one this process uses: before the CUDA
// runtime starts, by narrowing CUDA_VISIBLE_DEVICES to it (so every thread, including ones that
// never call cudaSetDevice, sees it as device 0); after, by cudaSetDevice. Does nothing without
// the variable (a plain run uses device 0). Idempotent; call it before the first CUDA call of a
// test (ARTABPFN_REQUIRE_GPU() does). Returns an empty string, or why the selection failed.
std::string select_device_from_ctest_resources();

}  // namespace artabpfn::kernels
