// mixed::layer_norm (kernels/mixed.hpp): one warp per row, 8 rows per 256-thread block, lane l
// owns the components j = l + 32 i and re-reads them at each pass (three passes: the sum for
// the mean, the centred squares for the biased variance, the output). Sums per lane in
// ascending j, then a butterfly over lane offsets 16, 8, 4, 2, 1: an order fixed by the width.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"
#include "kernels/layer/device_math.cuh"
#include "kernels/mixed.hpp"

namespace artabpfn::kernels::mixed {
namespace {

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = kThreads / 32;

using detail::load_sum;
using detail::warp_sum;

__global__ void __launch_bounds__(kThreads)
    layer_norm_kernel(const double* x, const double* residual, const float* __restrict__ weight,
                      const float* __restrict__ bias, double* y, std::int64_t rows, int width) {
  detail::start_after_previous_kernel();
  const int lane = static_cast<int>(threadIdx.x % 32);
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  if (row >= rows) return;  // the whole warp leaves together
  const std::int64_t base = row * width;
  double s = 0.0;
  for (int j = lane; j < width; j += 32) s += load_sum(x, residual, base + j);
  const double mean = warp_sum(s) / width;
  double q = 0.0;
  for (int j = lane; j < width; j += 32) {
    const double d = load_sum(x, residual, base + j) - mean;
    q = fma(d, d, q);
  }
  const double denom = sqrt(warp_sum(q) / width + 1e-5);
  // Each lane reads and then writes only its own components: in place (y == x) is safe.
  for (int j = lane; j < width; j += 32)
    y[base + j] = fma((load_sum(x, residual, base + j) - mean) / denom, double(weight[j]), double(bias[j]));
}

}  // namespace

void layer_norm(const double* x, const double* residual, const float* weight, const float* bias, double* y,
                std::int64_t rows, int width, cudaStream_t stream) {
  detail::require(rows >= 0 && width >= 1, "mixed::layer_norm: rows must be >= 0 and width >= 1");
  if (rows == 0) return;
  detail::launch(layer_norm_kernel, detail::blocks_for(rows, kRowsPerBlock, "mixed::layer_norm"), kThreads, 0, stream,
                 x, residual, weight, bias, y, rows, width);
}

}  // namespace artabpfn::kernels::mixed
