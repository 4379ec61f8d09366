// gelu: y[i] = x[i] / 2 * (1 + erf(x[i] / sqrt 2)), the exact GELU, elementwise over `count`.
//   x, y [count] (any shape, flattened); y may equal x.
// One version: one element per thread, 256 threads per block, blocks along x (64-bit index).
// For x < 0 evaluated as x/2 * erfc(-x / sqrt 2) (device_math.cuh), which equals the formula above
// and keeps its relative accuracy where 1 + erf cancels. There is no reduction; the result of an
// element depends on that element alone. The same function is the epilogue of linear(kGelu).
#include <cuda_runtime.h>

#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"
#include "kernels/layer.hpp"
#include "kernels/layer/device_math.cuh"

namespace artabpfn::kernels {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) gelu_kernel(const float* x, float* y, std::int64_t count) {
  detail::start_after_previous_kernel();
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  if (i < count) y[i] = detail::gelu_exact(x[i]);
}

}  // namespace

void gelu(const float* x, float* y, std::int64_t count, cudaStream_t stream) {
  detail::require(count >= 0, "gelu: negative count");
  if (count == 0) return;
  detail::launch(gelu_kernel, detail::blocks_for(count, kThreads, "gelu"), kThreads, 0, stream, x, y, count);
}

}  // namespace artabpfn::kernels
