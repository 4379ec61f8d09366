#pragma once
// Whether a CUDA device is usable here: the engine falls back to the CPU reference and GPU tests
// skip when it is not.
#include <string>

namespace artabpfn::kernels {

// Empty when a CUDA device is usable; otherwise the reason none is.
std::string gpu_unavailable_reason();
// "NVIDIA H100 80GB HBM3, compute 9.0, driver 13.0, runtime 13.0" for reports.
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
