#pragma once
// The k-tiled product kernel shared by kernels::linear (kernels/layer/linear.cu: a float32 FMA
// chain per k-tile, the chains added in double) and kernels::mixed::linear (kernels/mixed/linear.cu:
// one double fma a term). What is shared: the staging, the tiles and the epilogue's loop; the Sum
// policy says how a k-tile is summed and how an output is finished:
//   In, Out, Residual            element types of x, y and the residual
//   kTileK                       k staged at a time
//   add_tile<kTy, kTx>(xs, ws, k_count, ty, tx, acc)   adds one staged k-tile into acc (double)
//   finish<kAct>(sum, bias, out, residual, at)         + bias, activation, + residual -> Out
//
// Tiles: kTy x kTx threads, each owning kPr rows (ty + kTy i) x kPo outputs (tx + kTx j), ty =
// tid / kTx, tx = tid % kTx, so a warp's shared reads are broadcasts (x) or kTx consecutive words
// (W) and its stores of y are kTx consecutive elements a row. Grid x: row tiles (up to 2^31 - 1),
// y: output tiles. Every output's sum runs over k in a fixed order whatever the tile shape, the
// batch or the row's place in it (batch invariance); rows past the end are loaded as zeros and
// never stored.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/launch.cuh"
#include "kernels/layer.hpp"
#include "kernels/layer/device_math.cuh"

namespace artabpfn::kernels::detail {

// dst[k][r] = src[(first + r) * ld + k0 + k] for r < kRows, k < kK, zeros past n_rows or k_count;
// consecutive threads read consecutive k of one row (128-byte segments). The +1 of dst's rows
// makes the transposing stores conflict-free.
template <int kK, int kRows, int kThreads, class T>
__device__ __forceinline__ void stage_transposed(T (&dst)[kK][kRows + 1], const T* __restrict__ src,
                                                 std::int64_t first, std::int64_t n_rows, int ld, int k0, int k_count,
                                                 int tid) {
#pragma unroll
  for (int l = 0; l < (kRows * kK + kThreads - 1) / kThreads; ++l) {
    const int idx = tid + l * kThreads;
    if (idx >= kRows * kK) break;
    const int kk = idx % kK;
    const std::int64_t row = first + idx / kK;
    dst[kk][idx / kK] = (row < n_rows && kk < k_count) ? src[row * ld + k0 + kk] : T(0);
  }
}

template <class Sum, Epilogue kAct, int kTy, int kTx, int kPr, int kPo>
__global__ void __launch_bounds__(kTy * kTx)
    tiled_product_kernel(const typename Sum::In* __restrict__ x, const float* __restrict__ weight,
                         const float* __restrict__ bias, const typename Sum::Residual* residual, typename Sum::Out* y,
                         std::int64_t rows, int in_features, int out_features) {
  start_after_previous_kernel();
  constexpr int kThreads = kTy * kTx, kTileRows = kTy * kPr, kTileOuts = kTx * kPo, kK = Sum::kTileK;
  __shared__ typename Sum::In xs[kK][kTileRows + 1];  // [k][row]
  __shared__ float ws[kK][kTileOuts + 1];             // [k][output]

  const int tid = static_cast<int>(threadIdx.x);
  const int tx = tid % kTx;
  const int ty = tid / kTx;
  const std::int64_t row0 = static_cast<std::int64_t>(blockIdx.x) * kTileRows;
  const int out0 = static_cast<int>(blockIdx.y) * kTileOuts;

  double acc[kPr][kPo];
#pragma unroll
  for (int i = 0; i < kPr; ++i)
#pragma unroll
    for (int j = 0; j < kPo; ++j) acc[i][j] = 0.0;

  for (int k0 = 0; k0 < in_features; k0 += kK) {
    const int k_count = min(kK, in_features - k0);
    stage_transposed<kK, kTileRows, kThreads>(xs, x, row0, rows, in_features, k0, k_count, tid);
    stage_transposed<kK, kTileOuts, kThreads>(ws, weight, out0, out_features, in_features, k0, k_count, tid);
    __syncthreads();
    Sum::template add_tile<kTy, kTx>(xs, ws, k_count, ty, tx, acc);
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < kPr; ++i) {
    const std::int64_t row = row0 + ty + kTy * i;
    if (row >= rows) continue;
#pragma unroll
    for (int j = 0; j < kPo; ++j) {
      const int out = out0 + tx + kTx * j;
      if (out >= out_features) continue;
      const std::int64_t at = row * out_features + out;
      y[at] = Sum::template finish<kAct>(acc[i][j], bias, out, residual, at);
    }
  }
}

// Launches the kernel with kTy x kTx threads a block; `what` names the caller in errors.
template <class Sum, Epilogue kAct, int kTy, int kTx, int kPr, int kPo>
void launch_tiled_product(const typename Sum::In* x, const float* weight, const float* bias,
                          const typename Sum::Residual* residual, typename Sum::Out* y, std::int64_t rows,
                          int in_features, int out_features, cudaStream_t stream, const char* what) {
  constexpr int kTileRows = kTy * kPr, kTileOuts = kTx * kPo;
  const dim3 grid(blocks_for(rows, kTileRows, what), static_cast<unsigned int>((out_features + kTileOuts - 1) / kTileOuts));
  require(grid.y <= 65535u, "linear: out_features too large for one launch");
  launch(tiled_product_kernel<Sum, kAct, kTy, kTx, kPr, kPo>, grid, kTy * kTx, 0, stream, x, weight, bias, residual, y,
         rows, in_features, out_features);
}

}  // namespace artabpfn::kernels::detail
