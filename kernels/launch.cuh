#pragma once
// Every kernel of the project is launched through launch() below, with programmatic dependent
// launch (PDL, Hopper and later): a kernel may be scheduled while the kernel before it in the
// stream is still running, and waits for it on the device instead of on the launch queue. In a
// decode step (about 100 dependent kernels of a few microseconds, one CUDA graph) this hides each
// kernel's launch and ramp-up behind its predecessor (bench/engine/NOTES.md, v4).
//
// The contract every kernel keeps:
//   - before wait_for_producers() it reads only data no kernel of the stream writes (the model's
//     weights: linear kernels start their weight copies there) and writes no global memory;
//   - it calls wait_for_producers() before anything else, which returns once the previous kernel
//     has completed and its writes are visible (that kernel waited for its own predecessor, so
//     every earlier kernel has completed too);
//   - it calls let_consumers_launch() after that wait, so the next kernel may be scheduled (its
//     blocks then wait in turn); at most two kernels of a stream are in flight.
// Before sm_90 both calls compile to nothing and the attribute is not honoured: plain launches.
#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "kernels/cuda_check.hpp"

namespace artabpfn::kernels::detail {

__device__ __forceinline__ void wait_for_producers() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void let_consumers_launch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// The prologue of a kernel that reads nothing before the wait.
__device__ __forceinline__ void start_after_previous_kernel() {
  wait_for_producers();
  let_consumers_launch();
}

// kernel<<<grid, block, shared_bytes, stream>>>(args...) with the PDL attribute; the arguments are
// converted to the kernel's parameter types (as <<<>>> does). A bad launch throws CudaError.
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes, cudaStream_t stream,
            Args&&... args) {
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = shared_bytes;
  config.stream = stream;
  config.attrs = &attribute;
  config.numAttrs = 1;
  const cudaError_t status = cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
  if (status != cudaSuccess) cudaGetLastError();  // not left behind for a later check to find
  ARTABPFN_CUDA_CHECK(status);
}

}  // namespace artabpfn::kernels::detail
