// linear_layer_norm: y = LN(residual + (x W^T + bias)) * ln_weight + ln_bias, the product of
// linear() followed by layer_norm(residual, product), bitwise the same, in one launch for few rows
// (a decode step has three of these a layer: the feature map + LN1, out_proj + LN2, ff.2 + LN3).
//
// Why clusters: a LayerNorm needs a whole output row, but a block of the whole-k product
// (kernels/layer/whole_k.cuh) owns 32 outputs of 8-32 rows, and a row tile x all outputs in one
// block would leave most SMs idle at B 256. So the blocks of one row tile's C = width / 32 output
// tiles form a thread block cluster (C <= 8, the portable cluster size: width <= 256):
//   1. each block computes its products (the whole-k chains, + bias) into shared memory;
//   2. cluster barrier;
//   3. block c normalises rows c, c + C, ... of the tile: a warp per row gathers the row's
//      products from the C blocks' shared memory (distributed shared memory), adds the residual
//      and runs layer_norm's statistics (detail::row_stats: the same operations in the same order);
//   4. cluster barrier, so no block exits while another still reads its shared memory.
// Elsewhere (over 2048 rows, width > 256, k not a multiple of 4 or over 256, unaligned, or a device
// without clusters) it runs linear() then layer_norm() on y in place: the same result.
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda_check.hpp"
#include "kernels/device.hpp"
#include "kernels/launch.cuh"
#include "kernels/layer.hpp"
#include "kernels/layer/device_math.cuh"
#include "kernels/layer/whole_k.cuh"

namespace artabpfn::kernels {
namespace {

namespace cg = cooperative_groups;
constexpr int kMaxCluster = 8;
// Above this many rows the two launches are faster (H100, paper config, one decode step: B 256
// 758 vs 814 us with the one launch; B 4096, 8192 rows, 5267 vs 5044 us; bench/engine/NOTES.md, v6):
// the cluster barrier and the LayerNorm's gather then cost more than the launch they save.
constexpr std::int64_t kFusedMaxRows = detail::kWholeSmallMaxRows;  // 2048

template <class Tile, int kPerLane>
__global__ void __launch_bounds__(Tile::threads)
    linear_layer_norm_kernel(const float* __restrict__ x, const float* __restrict__ weight,
                             const float* __restrict__ bias, const float* residual, const float* __restrict__ ln_weight,
                             const float* __restrict__ ln_bias, float* y, std::int64_t rows, int in_features,
                             int width) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  using namespace detail;
  constexpr int kTileRows = Tile::rows, kR = Tile::rows_per_thread, kO = Tile::outs_per_thread;
  static_assert(Tile::outs == 32 && Tile::row_step == 8, "the cluster's blocks own 32 outputs of 8 R rows");
  __shared__ float products[kTileRows][Tile::outs];
  const cg::cluster_group cluster = cg::this_cluster();
  const int tiles = static_cast<int>(gridDim.y);  // output tiles = the cluster's blocks
  const int rank = static_cast<int>(blockIdx.y);
  const std::int64_t row0 = static_cast<std::int64_t>(blockIdx.x) * kTileRows;
  const int out0 = rank * Tile::outs;
  float sums[kR][kO];
  whole_k_tile<Tile>(x, weight, rows, in_features, width, out0, sums);
  const int tid = static_cast<int>(threadIdx.x);
  if (Tile::holds_sums(tid)) {
#pragma unroll
    for (int i = 0; i < kR; ++i)
#pragma unroll
      for (int j = 0; j < kO; ++j) {
        const int out = out0 + tid % 16 + 16 * j;
        products[tid / 16 + 8 * i][tid % 16 + 16 * j] =
            (bias != nullptr && out < width) ? sums[i][j] + bias[out] : sums[i][j];
      }
  }
  cluster.sync();

  const int warp = tid / 32, lane = tid % 32;
  for (int rr = rank + tiles * warp; rr < kTileRows; rr += tiles * (Tile::threads / 32)) {
    const std::int64_t row = row0 + rr;
    if (row >= rows) break;
    const std::int64_t base = row * width;
    float v[kPerLane];
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int j = lane + 32 * i;
      if (j < width) {
        const float* owner = cluster.map_shared_rank(&products[0][0], j / Tile::outs);
        v[i] = residual[base + j] + owner[rr * Tile::outs + j % Tile::outs];
      } else {
        v[i] = 0.0f;
      }
    }
    const RowStats s = row_stats<kPerLane>(v, lane, width);
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int j = lane + 32 * i;
      if (j < width) y[base + j] = layer_norm_value(v[i], s, ln_weight[j], ln_bias[j]);
    }
  }
  cluster.sync();
#endif
}

}  // namespace

void linear_layer_norm(const float* x, const float* weight, const float* bias, const float* residual,
                       const float* ln_weight, const float* ln_bias, float* y, std::int64_t rows, int in_features,
                       int width, cudaStream_t stream) {
  detail::require(rows >= 0 && in_features >= 0 && width >= 1, "linear_layer_norm: bad size");
  if (rows == 0) return;
  detail::require(residual != nullptr && y != x && y != residual,
                  "linear_layer_norm: needs a residual, and y distinct from x and the residual");
  const int tiles = (width + 31) / 32;
  if (tiles > kMaxCluster || in_features == 0 || rows > kFusedMaxRows ||
      !detail::whole_k_fits(x, weight, in_features) || !device_has_clusters()) {
    linear(x, weight, bias, nullptr, y, rows, in_features, width, Epilogue::kNone, stream);
    layer_norm(residual, y, ln_weight, ln_bias, y, rows, width, stream);
    return;
  }
  const auto by_width = [&](auto tile) {
    using Tile = decltype(tile);
    const dim3 grid(detail::blocks_for(rows, Tile::rows, "linear_layer_norm"), static_cast<unsigned int>(tiles));
    const auto run = [&](auto kernel) {
      detail::allow_shared_memory_once(kernel, Tile::shared_bytes(detail::kWholeMaxK));
      detail::launch_in_clusters(kernel, grid, Tile::threads, dim3(1, static_cast<unsigned int>(tiles), 1),
                                 Tile::shared_bytes(in_features), stream, x, weight, bias, residual, ln_weight,
                                 ln_bias, y, rows, in_features, width);
    };
    if (width <= 32)
      run(linear_layer_norm_kernel<Tile, 1>);
    else if (width <= 64)
      run(linear_layer_norm_kernel<Tile, 2>);
    else if (width <= 128)
      run(linear_layer_norm_kernel<Tile, 4>);
    else
      run(linear_layer_norm_kernel<Tile, 8>);
  };
  if (rows <= detail::kWholeTinyMaxRows) by_width(detail::WholeKTiny());
  else if (rows <= detail::kWholeSmallSplitMaxRows) by_width(detail::WholeKSmallSplit());
  else by_width(detail::WholeKSmall());  // rows <= kFusedMaxRows = kWholeSmallMaxRows
}

}  // namespace artabpfn::kernels
