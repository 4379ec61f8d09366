#pragma once
// Small helpers of the GPU tests' launchers.
#include <cuda_runtime.h>

#include "kernels/cuda_check.hpp"
#include "kernels/device_buffer.hpp"

namespace artabpfn::gpu_layer_test {

using kernels::DeviceBuffer;
using kernels::GuardedOutput;

// The buffer's pointer, or nullptr for an empty buffer (an absent optional operand).
inline float* or_null(DeviceBuffer<float>& b) { return b.size() > 0 ? b.data() : nullptr; }

inline void device_sync() { ARTABPFN_CUDA_CHECK(cudaDeviceSynchronize()); }

}  // namespace artabpfn::gpu_layer_test
