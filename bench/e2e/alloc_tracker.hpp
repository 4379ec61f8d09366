#pragma once
// Device memory the engine asks for: the benchmark links with the linker's --wrap=cudaMalloc and
// --wrap=cudaFree (bench/e2e/CMakeLists.txt), so every cudaMalloc / cudaFree of the process
// (the engine's DeviceBuffer included) passes through a counter of live bytes and their peak.
// It counts requested bytes only: not the CUDA context, graph or allocator overheads.
#include <cstddef>

namespace artabpfn::bench {

std::size_t live_device_bytes();
std::size_t peak_device_bytes();
// Sets the peak to the bytes live now (call before the call to measure).
void reset_peak_device_bytes();
// False when no allocation has passed through the wrapper yet (the wrap did not take effect).
bool allocation_tracking_active();

}  // namespace artabpfn::bench
