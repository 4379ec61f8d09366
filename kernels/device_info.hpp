#pragma once
// Whether a CUDA device is usable here: the engine falls back to the CPU reference and GPU tests
// skip when it is not.
#include <string>

namespace artabpfn::kernels {

// Empty when a CUDA device is usable; otherwise the reason none is.
std::string gpu_unavailable_reason();
// "NVIDIA H100 80GB HBM3, compute 9.0, driver 13.0, runtime 13.0" for reports.
std::string gpu_description();

}  // namespace artabpfn::kernels
