#pragma once
// Every kernel of the project is launched through launch() below, with programmatic dependent
// launch (PDL, Hopper and later): a kernel may be scheduled while the kernel before it in the
// stream is still running, and waits for it on the device instead of on the launch queue. In a
// decode step (about 100 dependent kernels of a few microseconds, one CUDA graph) this hides each
// kernel's launch and ramp-up behind its predecessor (bench/engine/NOTES.md, v4).
//
// The contract every kernel keeps:
//   - before wait_for_producers() it reads only data no kernel of the stream writes (the model's
//     weights: linear kernels start their weight copies there), or data its caller promises was
//     written before the previous kernel was launched (when this kernel starts, every kernel
//     before the previous one has completed: the previous kernel let it launch only after its own
//     wait; the attention kernels' ContextKV::complete_before_previous_kernel), and writes no
//     global memory;
//   - it calls wait_for_producers() before anything else, which returns once the previous kernel
//     has completed and its writes are visible (that kernel waited for its own predecessor, so
//     every earlier kernel has completed too);
//   - it calls let_consumers_launch() after that wait, so the next kernel may be scheduled (its
//     blocks then wait in turn); at most two kernels of a stream are in flight.
// Before sm_90 both calls compile to nothing and the attribute is not honoured: plain launches.
#include <cuda_runtime.h>

#include <cstddef>
#include <mutex>
#include <set>
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

// kernel<<<grid, block, shared_bytes, stream>>>(args...) with the PDL attribute and, when cluster
// is not (1, 1, 1), thread block clusters of that shape (sm_90: blocks of a cluster run at once on
// one GPC and can read each other's shared memory). The arguments are converted to the kernel's
// parameter types (as <<<>>> does). A bad launch throws CudaError.
template <class... Params, class... Args>
void launch_in_clusters(void (*kernel)(Params...), dim3 grid, dim3 block, dim3 cluster, std::size_t shared_bytes,
                        cudaStream_t stream, Args&&... args) {
  cudaLaunchAttribute attributes[2]{};
  attributes[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attributes[0].val.programmaticStreamSerializationAllowed = 1;
  attributes[1].id = cudaLaunchAttributeClusterDimension;
  attributes[1].val.clusterDim.x = cluster.x;
  attributes[1].val.clusterDim.y = cluster.y;
  attributes[1].val.clusterDim.z = cluster.z;
  const bool clustered = cluster.x * cluster.y * cluster.z > 1;
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = shared_bytes;
  config.stream = stream;
  config.attrs = attributes;
  config.numAttrs = clustered ? 2 : 1;
  const cudaError_t status = cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
  if (status != cudaSuccess) cudaGetLastError();  // not left behind for a later check to find
  ARTABPFN_CUDA_CHECK(status);
}

template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes, cudaStream_t stream,
            Args&&... args) {
  launch_in_clusters(kernel, grid, block, dim3(1, 1, 1), shared_bytes, stream, std::forward<Args>(args)...);
}

// A kernel with more than 48 KB of dynamic shared memory needs an opt-in, once per kernel and
// device (to its largest size). It runs in relaxed capture mode so that a first launch inside a
// CUDA-graph capture is not broken by it. Thread-safe.
template <class... Params>
void allow_shared_memory_once(void (*kernel)(Params...), std::size_t bytes) {
  static std::mutex mutex;
  static std::set<std::pair<const void*, int>> done;  // (kernel, device)
  int device = 0;
  ARTABPFN_CUDA_CHECK(cudaGetDevice(&device));
  const std::pair<const void*, int> key{reinterpret_cast<const void*>(kernel), device};
  const std::lock_guard<std::mutex> lock(mutex);
  if (done.count(key) != 0) return;
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  ARTABPFN_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
  const cudaError_t e =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
  ARTABPFN_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));  // the caller's mode back first
  ARTABPFN_CUDA_CHECK(e);
  done.insert(key);
}

}  // namespace artabpfn::kernels::detail
