// layer_norm: y[r, :] = LN(x[r, :] + residual[r, :]) * weight + bias over D = width components,
// biased variance, eps 1e-5 (docs/model.md, "One layer").   x, residual, y [rows, D]; weight, bias [D]
//
// One warp per row, 8 rows per 256-thread block. Lane l owns the components j = l + 32 i.
// Variants (chosen by D): the row held in registers, 1, 2, 4 or 8 values per lane (D <= 256);
// or, for wider rows, re-read from global memory at each pass (same arithmetic, same order).
//
// Statistics, in float32, three passes over the row (v = x + residual, rounded to float once):
//   1. m0    = sum(v) / D
//   2. delta = sum(v - m0) / D        the mean is m0 + delta, kept as that unrounded pair
//   3. d     = (v - m0) - delta       centred value; var = sum(d^2) / D (no cancellation)
//   y = fma(d / sqrt(var + 1e-5), weight, bias)
// Rows far from zero (mean 1e3, spread 1e-3) stay accurate: v - m0 is exact there (Sterbenz), and
// the mean is never rounded to one float, whose half ulp (3e-5 at 1e3) would be 3% of the spread.
// Why the reduction order is fixed: each lane sums its own components in ascending j, then a
// butterfly over lane offsets 16, 8, 4, 2, 1 (every lane ends with the same bits, since float
// addition is commutative). That order depends on D alone, never on the number of rows or the
// row's position, so results are bitwise batch invariant and deterministic.
#include <cuda_runtime.h>

#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"
#include "kernels/layer.hpp"
#include "kernels/layer/device_math.cuh"

namespace artabpfn::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = kThreads / 32;
constexpr float kEps = 1e-5f;

// kPerLane > 0: the row lives in registers (D <= 32 kPerLane). kPerLane == 0: any D, re-read.
template <int kPerLane>
__global__ void __launch_bounds__(kThreads)
    layer_norm_kernel(const float* x, const float* residual, const float* __restrict__ weight,
                      const float* __restrict__ bias, float* y, std::int64_t rows, int width) {
  detail::start_after_previous_kernel();
  const int lane = static_cast<int>(threadIdx.x % 32);
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
  if (row >= rows) return;  // the whole warp leaves together
  const std::int64_t base = row * width;
  const float n = static_cast<float>(width);

  if constexpr (kPerLane > 0) {
    float v[kPerLane];
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int j = lane + 32 * i;
      v[i] = j < width ? detail::load_sum(x, residual, base + j) : 0.0f;
    }
    const detail::RowStats s = detail::row_stats<kPerLane>(v, lane, width);
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int j = lane + 32 * i;
      if (j < width) y[base + j] = detail::layer_norm_value(v[i], s, weight[j], bias[j]);
    }
  } else {
    float s = 0.0f;
    for (int j = lane; j < width; j += 32) s += detail::load_sum(x, residual, base + j);
    const float m0 = detail::warp_sum(s) / n;
    float c = 0.0f;
    for (int j = lane; j < width; j += 32) c += detail::load_sum(x, residual, base + j) - m0;
    const float delta = detail::warp_sum(c) / n;
    float q = 0.0f;
    for (int j = lane; j < width; j += 32) {
      const float d = (detail::load_sum(x, residual, base + j) - m0) - delta;
      q = fmaf(d, d, q);
    }
    const detail::RowStats stats{m0, delta, sqrtf(detail::warp_sum(q) / n + kEps)};
    // Each lane reads and then writes only its own components: in place (y == x) is safe.
    for (int j = lane; j < width; j += 32)
      y[base + j] = detail::layer_norm_value(detail::load_sum(x, residual, base + j), stats, weight[j], bias[j]);
  }
}

}  // namespace

void layer_norm(const float* x, const float* residual, const float* weight, const float* bias, float* y,
                std::int64_t rows, int width, cudaStream_t stream) {
  detail::require(rows >= 0 && width >= 1, "layer_norm: rows must be >= 0 and width >= 1");
  if (rows == 0) return;
  const unsigned int grid = detail::blocks_for(rows, kRowsPerBlock, "layer_norm");
  if (width <= 32)
    detail::launch(layer_norm_kernel<1>, grid, kThreads, 0, stream, x, residual, weight, bias, y, rows, width);
  else if (width <= 64)
    detail::launch(layer_norm_kernel<2>, grid, kThreads, 0, stream, x, residual, weight, bias, y, rows, width);
  else if (width <= 128)
    detail::launch(layer_norm_kernel<4>, grid, kThreads, 0, stream, x, residual, weight, bias, y, rows, width);
  else if (width <= 256)
    detail::launch(layer_norm_kernel<8>, grid, kThreads, 0, stream, x, residual, weight, bias, y, rows, width);
  else
    detail::launch(layer_norm_kernel<0>, grid, kThreads, 0, stream, x, residual, weight, bias, y, rows, width);
}

}  // namespace artabpfn::kernels
