// wide::linear (kernels/wide.hpp): a shared-memory tiled product with double arithmetic.
//
// Tiles: kTy x kTx threads, each owning kPr rows (ty + kTy i) x kPo outputs (tx + kTx j); k is
// staged 16 at a time (x in its own type, W as float32). Two shapes, 64 x 64 (16 x 16 threads,
// 4 x 4 each) and, where those give fewer than 264 blocks, 16 x 32 (8 x 16 threads, 2 x 2). Both
// run the same per-output sum: acc = fma(double(x[r, k]), double(W[o, k]), acc) from 0 in
// ascending k (a float32 weight times a double has a 77-bit product: the fma rounds once a term),
// so the tile shape and the batch never change a bit.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"
#include "kernels/layer/device_math.cuh"
#include "kernels/wide.hpp"

namespace artabpfn::kernels::wide {
namespace {

constexpr int kTileK = 16;

// GELU(u) = u/2 (1 + erf(u / sqrt 2)), as detail::gelu_exact (erfc for u < 0), in double.
__device__ __forceinline__ double gelu_exact(double u) {
  const double z = u * 0.70710678118654752440;
  return 0.5 * u * (u < 0.0 ? erfc(-z) : 1.0 + erf(z));
}

template <class TIn, class TOut, Epilogue kAct, int kTy, int kTx, int kPr, int kPo>
__global__ void __launch_bounds__(kTy * kTx)
    linear_kernel(const TIn* __restrict__ x, const float* __restrict__ weight, const float* __restrict__ bias,
                  const double* residual, TOut* y, std::int64_t rows, int in_features, int out_features) {
  detail::start_after_previous_kernel();
  constexpr int kThreads = kTy * kTx;
  constexpr int kTileRows = kTy * kPr;
  constexpr int kTileOuts = kTx * kPo;
  __shared__ TIn xs[kTileK][kTileRows + 1];  // [k][row], [k][output]: transposed, padded
  __shared__ float ws[kTileK][kTileOuts + 1];

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

  for (int k0 = 0; k0 < in_features; k0 += kTileK) {
    const int k_count = min(kTileK, in_features - k0);
    for (int idx = tid; idx < kTileRows * kTileK; idx += kThreads) {
      const int kk = idx % kTileK, rr = idx / kTileK;
      const std::int64_t row = row0 + rr;
      xs[kk][rr] = (row < rows && kk < k_count) ? x[row * in_features + k0 + kk] : TIn(0);
    }
    for (int idx = tid; idx < kTileOuts * kTileK; idx += kThreads) {
      const int kk = idx % kTileK, oo = idx / kTileK;
      const int out = out0 + oo;
      ws[kk][oo] = (out < out_features && kk < k_count) ? weight[std::int64_t(out) * in_features + k0 + kk] : 0.0f;
    }
    __syncthreads();
    for (int kk = 0; kk < k_count; ++kk) {  // padded k are skipped, not multiplied by zero
      double a[kPr], b[kPo];
#pragma unroll
      for (int i = 0; i < kPr; ++i) a[i] = static_cast<double>(xs[kk][ty + kTy * i]);
#pragma unroll
      for (int j = 0; j < kPo; ++j) b[j] = static_cast<double>(ws[kk][tx + kTx * j]);
#pragma unroll
      for (int i = 0; i < kPr; ++i)
#pragma unroll
        for (int j = 0; j < kPo; ++j) acc[i][j] = fma(a[i], b[j], acc[i][j]);
    }
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
      double v = acc[i][j];
      if (bias != nullptr) v += static_cast<double>(bias[out]);
      if constexpr (kAct == Epilogue::kGelu) v = gelu_exact(v);
      if (residual != nullptr) v += residual[at];
      y[at] = static_cast<TOut>(v);
    }
  }
}

template <class TIn, class TOut, Epilogue kAct, int kTy, int kTx, int kPr, int kPo>
void launch(const TIn* x, const float* weight, const float* bias, const double* residual, TOut* y,
            std::int64_t rows, int in_features, int out_features, cudaStream_t stream) {
  constexpr int kTileRows = kTy * kPr, kTileOuts = kTx * kPo;
  const dim3 grid(detail::blocks_for(rows, kTileRows, "wide::linear"),
                  static_cast<unsigned int>((out_features + kTileOuts - 1) / kTileOuts));
  detail::require(grid.y <= 65535u, "wide::linear: out_features too large for one launch");
  detail::launch(linear_kernel<TIn, TOut, kAct, kTy, kTx, kPr, kPo>, grid, kTy * kTx, 0, stream, x, weight, bias,
                 residual, y, rows, in_features, out_features);
}

template <class TIn, class TOut, Epilogue kAct>
void dispatch(const TIn* x, const float* weight, const float* bias, const double* residual, TOut* y,
              std::int64_t rows, int in_features, int out_features, cudaStream_t stream) {
  if (((rows + 63) / 64) * ((out_features + 63) / 64) >= 264)  // two blocks an SM of an H100
    launch<TIn, TOut, kAct, 16, 16, 4, 4>(x, weight, bias, residual, y, rows, in_features, out_features, stream);
  else
    launch<TIn, TOut, kAct, 8, 16, 2, 2>(x, weight, bias, residual, y, rows, in_features, out_features, stream);
}

}  // namespace

template <class TIn, class TOut>
void linear(const TIn* x, const float* weight, const float* bias, const double* residual, TOut* y, std::int64_t rows,
            int in_features, int out_features, Epilogue act, cudaStream_t stream) {
  detail::require(rows >= 0 && in_features >= 0 && out_features >= 0, "wide::linear: negative size");
  if (rows == 0 || out_features == 0) return;
  if (act == Epilogue::kGelu)
    dispatch<TIn, TOut, Epilogue::kGelu>(x, weight, bias, residual, y, rows, in_features, out_features, stream);
  else
    dispatch<TIn, TOut, Epilogue::kNone>(x, weight, bias, residual, y, rows, in_features, out_features, stream);
}

template void linear<double, double>(const double*, const float*, const float*, const double*, double*, std::int64_t,
                                     int, int, Epilogue, cudaStream_t);
template void linear<double, float>(const double*, const float*, const float*, const double*, float*, std::int64_t,
                                    int, int, Epilogue, cudaStream_t);
template void linear<float, double>(const float*, const float*, const float*, const double*, double*, std::int64_t,
                                    int, int, Epilogue, cudaStream_t);

}  // namespace artabpfn::kernels::wide
