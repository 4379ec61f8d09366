// linear: y[rows, out] = act(x[rows, in] W^T + bias) + residual, W in PyTorch [out, in] layout.
//
// One version: a shared-memory tiled float32 product (no cuBLAS, no TF32, no tensor cores).
//   block  256 threads, tile of 64 rows x 64 outputs, k staged through shared memory 32 at a time
//   thread 4 x 4 outputs: rows ty + 16 i, outputs tx + 16 j (ty = tid / 16, tx = tid % 16), so a
//          warp's shared reads are broadcasts (x) or 16 consecutive words (W), and its stores of y
//          are 16 consecutive floats per row
//   grid   x: row tiles (up to 2^31 - 1), y: output tiles
//   epilogue (in registers): + bias, then the exact GELU when asked, then + residual
//
// Why the reduction order is fixed: each output element has one accumulator in one thread, updated
// as acc = fma(x[r, k], W[o, k], acc) for k = 0, 1, ..., in - 1, one k-tile after the other, and
// padded k (past in_features) are skipped rather than multiplied by zero. Nothing in that chain
// depends on how many rows the launch has, on which tile or thread the row lands in, or on the
// other rows, so a row's output is bitwise identical for any batch (batch invariance); rows past
// the end are loaded as zeros and never stored.
#include <cuda_runtime.h>

#include "kernels/cuda_check.hpp"
#include "kernels/layer.hpp"
#include "kernels/layer/device_math.cuh"

namespace artabpfn::kernels {
namespace {

constexpr int kTileRows = 64;
constexpr int kTileOuts = 64;
constexpr int kTileK = 32;
constexpr int kThreads = 256;
constexpr int kPerThread = 4;  // rows and outputs per thread in each direction

template <Epilogue kAct>
__global__ void __launch_bounds__(kThreads)
    linear_kernel(const float* __restrict__ x, const float* __restrict__ weight, const float* __restrict__ bias,
                  const float* residual, float* y, std::int64_t rows, int in_features, int out_features) {
  // [k][row] and [k][output]; the +1 pad makes the transposing stores conflict-free.
  __shared__ float xs[kTileK][kTileRows + 1];
  __shared__ float ws[kTileK][kTileOuts + 1];

  const int tid = static_cast<int>(threadIdx.x);
  const int tx = tid % 16;
  const int ty = tid / 16;
  const std::int64_t row0 = static_cast<std::int64_t>(blockIdx.x) * kTileRows;
  const int out0 = static_cast<int>(blockIdx.y) * kTileOuts;

  float acc[kPerThread][kPerThread];
#pragma unroll
  for (int i = 0; i < kPerThread; ++i)
#pragma unroll
    for (int j = 0; j < kPerThread; ++j) acc[i][j] = 0.0f;

  for (int k0 = 0; k0 < in_features; k0 += kTileK) {
    const int k_count = min(kTileK, in_features - k0);
    // Stage x[row0 .. +64, k0 .. +32] and W[out0 .. +64, k0 .. +32]: 2048 words each, 8 per
    // thread; consecutive threads read consecutive k of one row (128-byte segments).
#pragma unroll
    for (int l = 0; l < (kTileRows * kTileK) / kThreads; ++l) {
      const int idx = tid + l * kThreads;
      const int kk = idx % kTileK;
      const int rr = idx / kTileK;
      const std::int64_t row = row0 + rr;
      const int out = out0 + rr;
      xs[kk][rr] = (row < rows && kk < k_count) ? x[row * in_features + k0 + kk] : 0.0f;
      ws[kk][rr] = (out < out_features && kk < k_count)
                       ? weight[static_cast<std::int64_t>(out) * in_features + k0 + kk]
                       : 0.0f;
    }
    __syncthreads();
    if (k_count == kTileK) {
#pragma unroll
      for (int kk = 0; kk < kTileK; ++kk) {
        float a[kPerThread], b[kPerThread];
#pragma unroll
        for (int i = 0; i < kPerThread; ++i) a[i] = xs[kk][ty + 16 * i];
#pragma unroll
        for (int j = 0; j < kPerThread; ++j) b[j] = ws[kk][tx + 16 * j];
#pragma unroll
        for (int i = 0; i < kPerThread; ++i)
#pragma unroll
          for (int j = 0; j < kPerThread; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
    } else {
      // The last, partial k-tile: the same chain, stopping at in_features.
      for (int kk = 0; kk < k_count; ++kk) {
        float a[kPerThread], b[kPerThread];
#pragma unroll
        for (int i = 0; i < kPerThread; ++i) a[i] = xs[kk][ty + 16 * i];
#pragma unroll
        for (int j = 0; j < kPerThread; ++j) b[j] = ws[kk][tx + 16 * j];
#pragma unroll
        for (int i = 0; i < kPerThread; ++i)
#pragma unroll
          for (int j = 0; j < kPerThread; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < kPerThread; ++i) {
    const std::int64_t row = row0 + ty + 16 * i;
    if (row >= rows) continue;
#pragma unroll
    for (int j = 0; j < kPerThread; ++j) {
      const int out = out0 + tx + 16 * j;
      if (out >= out_features) continue;
      const std::int64_t at = row * out_features + out;
      float v = acc[i][j];
      if (bias != nullptr) v = v + bias[out];
      if constexpr (kAct == Epilogue::kGelu) v = detail::gelu_exact(v);
      if (residual != nullptr) v = v + residual[at];
      y[at] = v;
    }
  }
}

}  // namespace

void linear(const float* x, const float* weight, const float* bias, const float* residual, float* y,
            std::int64_t rows, int in_features, int out_features, Epilogue act, cudaStream_t stream) {
  detail::require(rows >= 0 && in_features >= 0 && out_features >= 0, "linear: negative size");
  if (rows == 0 || out_features == 0) return;
  const dim3 grid(detail::blocks_for(rows, kTileRows, "linear"),
                  static_cast<unsigned int>((out_features + kTileOuts - 1) / kTileOuts));
  detail::require(grid.y <= 65535u, "linear: out_features too large for one launch");
  if (act == Epilogue::kGelu)
    linear_kernel<Epilogue::kGelu><<<grid, kThreads, 0, stream>>>(x, weight, bias, residual, y, rows, in_features,
                                                                   out_features);
  else
    linear_kernel<Epilogue::kNone><<<grid, kThreads, 0, stream>>>(x, weight, bias, residual, y, rows, in_features,
                                                                   out_features);
  ARTABPFN_CHECK_LAUNCH();
}

}  // namespace artabpfn::kernels
