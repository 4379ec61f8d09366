// linear: y[rows, out] = act(x[rows, in] W^T + bias) + residual, W in PyTorch [out, in] layout.
// linear_append_kv: a decode step's q|k|v product whose epilogue also appends each sample's
// buffer-row k and v to its cache (the whole-k kernel's kAppend instantiation, up to 2048 rows).
//
// A shared-memory tiled float32 product (no cuBLAS, no TF32, no tensor cores):
//   whole-k  where in_features % 4 == 0 and <= 256 and x, W are 16-byte aligned (every product of
//          the model): all of k staged at once, tiles of 8 x 32 to 64 x 64 by the launch's rows
//          (kernels/layer/whole_k.cuh)
//   otherwise k is staged through shared memory 32 at a time (kernels/layer/tiled_product.cuh with
//          the FloatChains policy below), two tile shapes:
//   large  256 threads, 64 rows x 64 outputs, 4 x 4 outputs per thread (rows ty + 16 i, outputs
//          tx + 16 j, ty = tid / 16, tx = tid % 16), so a warp's shared reads are broadcasts (x)
//          or 16 consecutive words (W), and its stores of y are 16 consecutive floats per row
//   small  128 threads, 16 rows x 32 outputs, 2 x 2 per thread (rows ty + 8 i, outputs tx + 16 j),
//          used when the large tiles would give fewer than 264 blocks
//   grid   x: row tiles (up to 2^31 - 1), y: output tiles
//   epilogue (in registers): + bias, then the exact GELU when asked, then + residual
//
// The reduction, blocked: each output element is computed by one thread as a double sum over the
// blocks of 32 consecutive k (k = 0..31, 32..63, ...) of a float32 FMA chain per block,
// part = fma(x[r, k], W[o, k], part) from part = 0 in increasing k, added to the double
// accumulator in block order and rounded to float once at the end. Padded k (past in_features)
// are skipped rather than multiplied by zero. A float chain's rounding error grows with its length
// and with the size of its running sum; chains of 32 keep both small for the model's k = 128 and
// 256 (the engine's float32 density error is mostly the products' accumulation:
// docs/accuracy.md, "Where the float32 error comes from"), for 2 conversions and 2 double adds
// per 64 FMAs.
// Why the order is fixed: nothing in that sequence depends on how many rows the launch has, on
// which tile or thread the row lands in, or on the other rows, so a row's output is bitwise
// identical for any batch (batch invariance); rows past the end are loaded as zeros and never
// stored.
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"
#include "kernels/layer.hpp"
#include "kernels/layer/device_math.cuh"
#include "kernels/layer/tiled_product.cuh"
#include "kernels/layer/whole_k.cuh"
#include "kernels/rows.hpp"

namespace artabpfn::kernels {
namespace {

// The blocked reduction (top of this file) as the tiled product's Sum policy: a k-tile is one
// float chain per output, added to the double accumulator; the epilogue in float32.
struct FloatChains {
  using In = float;
  using Out = float;
  using Residual = float;
  static constexpr int kTileK = detail::kChainK;

  template <int kTy, int kTx, int kPr, int kPo, int kRows, int kOuts>
  __device__ __forceinline__ static void add_tile(const float (&xs)[kTileK][kRows], const float (&ws)[kTileK][kOuts],
                                                  int k_count, int ty, int tx, double (&acc)[kPr][kPo]) {
    float part[kPr][kPo];  // this k-tile's chain: one block of the blocked reduction
#pragma unroll
    for (int i = 0; i < kPr; ++i)
#pragma unroll
      for (int j = 0; j < kPo; ++j) part[i][j] = 0.0f;
    if (k_count == kTileK) {
#pragma unroll
      for (int kk = 0; kk < kTileK; ++kk) chain_step<kTy, kTx>(xs[kk], ws[kk], ty, tx, part);
    } else {
      // The last, partial k-tile: the same chain, stopping at in_features.
      for (int kk = 0; kk < k_count; ++kk) chain_step<kTy, kTx>(xs[kk], ws[kk], ty, tx, part);
    }
#pragma unroll
    for (int i = 0; i < kPr; ++i)
#pragma unroll
      for (int j = 0; j < kPo; ++j) acc[i][j] += static_cast<double>(part[i][j]);
  }

  template <Epilogue kAct>
  __device__ __forceinline__ static float finish(double sum, const float* bias, int out, const float* residual,
                                                 std::int64_t at) {
    float v = static_cast<float>(sum);
    if (bias != nullptr) v = v + bias[out];
    if constexpr (kAct == Epilogue::kGelu) v = detail::gelu_exact(v);
    if (residual != nullptr) v = v + residual[at];
    return v;
  }

 private:
  template <int kTy, int kTx, int kPr, int kPo, int kRows, int kOuts>
  __device__ __forceinline__ static void chain_step(const float (&x)[kRows], const float (&w)[kOuts], int ty, int tx,
                                                    float (&part)[kPr][kPo]) {
    float a[kPr], b[kPo];
#pragma unroll
    for (int i = 0; i < kPr; ++i) a[i] = x[ty + kTy * i];
#pragma unroll
    for (int j = 0; j < kPo; ++j) b[j] = w[tx + kTx * j];
#pragma unroll
    for (int i = 0; i < kPr; ++i)
#pragma unroll
      for (int j = 0; j < kPo; ++j) part[i][j] = fmaf(a[i], b[j], part[i][j]);
  }
};

// The whole-k variant (kernels/layer/whole_k.cuh), one tile shape per instantiation; kAppend:
// with the decode step's K/V append in the epilogue (linear_append_kv; its own instantiation, so
// that the other launches carry none of its code; `append` is unused without it).
template <Epilogue kAct, class Tile, bool kAppend>
__global__ void __launch_bounds__(Tile::threads)
    linear_whole_k_kernel(const float* __restrict__ x, const float* __restrict__ weight,
                          const float* __restrict__ bias, const float* residual, float* y, std::int64_t rows,
                          int in_features, int out_features, const KVAppend append) {
  using namespace detail;
  const std::int64_t row0 = static_cast<std::int64_t>(blockIdx.x) * Tile::rows;
  const int out0 = static_cast<int>(blockIdx.y) * Tile::outs;
  float sums[Tile::rows_per_thread][Tile::outs_per_thread];
  whole_k_tile<Tile>(x, weight, rows, in_features, out_features, out0, sums);
  const int tid = static_cast<int>(threadIdx.x);
  if (!Tile::holds_sums(tid)) return;  // a helper of the split chains
  // After whole_k_tile's wait for the previous kernel: the step is the one this launch decodes.
  const int t = kAppend ? *append.step : 0;
  const int d_model = append.n_heads * append.head_dim;
#pragma unroll
  for (int i = 0; i < Tile::rows_per_thread; ++i) {
    const std::int64_t row = row0 + tid / 16 + Tile::row_step * i;
    if (row >= rows) break;
#pragma unroll
    for (int j = 0; j < Tile::outs_per_thread; ++j) {
      const int out = out0 + tid % 16 + 16 * j;
      if (out >= out_features) continue;
      const std::int64_t at = row * out_features + out;
      float v = sums[i][j];
      if (bias != nullptr) v = v + bias[out];
      if constexpr (kAct == Epilogue::kGelu) v = gelu_exact(v);
      if (residual != nullptr) v = v + residual[at];
      y[at] = v;
      if (kAppend && t >= 1 && row % 2 == 0 && out >= d_model) {  // sample row / 2's buffer row t - 1: k or v
        const int c = out < 2 * d_model ? out - d_model : out - 2 * d_model;
        const int h = c / append.head_dim, d = c - h * append.head_dim;
        float* buffer = out < 2 * d_model ? append.k_buffer : append.v_buffer;
        buffer[((row / 2 * append.n_heads + h) * append.capacity + (t - 1)) * append.head_dim + d] = v;
      }
    }
  }
}

template <Epilogue kAct, class Tile, bool kAppend = false>
void launch_whole_k(const float* x, const float* weight, const float* bias, const float* residual, float* y,
                    std::int64_t rows, int in_features, int out_features, cudaStream_t stream,
                    const KVAppend& append = {}) {
  const dim3 grid(detail::blocks_for(rows, Tile::rows, "linear"),
                  static_cast<unsigned int>((out_features + Tile::outs - 1) / Tile::outs));
  detail::require(grid.y <= 65535u, "linear: out_features too large for one launch");
  const auto kernel = linear_whole_k_kernel<kAct, Tile, kAppend>;
  detail::allow_shared_memory_once(kernel, Tile::shared_bytes(detail::kWholeMaxK));
  detail::launch(kernel, grid, Tile::threads, Tile::shared_bytes(in_features), stream, x, weight, bias, residual, y,
                 rows, in_features, out_features, append);
}

template <Epilogue kAct>
void dispatch(const float* x, const float* weight, const float* bias, const float* residual, float* y,
              std::int64_t rows, int in_features, int out_features, cudaStream_t stream) {
  if (detail::whole_k_fits(x, weight, in_features)) {
    if (rows <= detail::kWholeTinyMaxRows)
      launch_whole_k<kAct, detail::WholeKTiny>(x, weight, bias, residual, y, rows, in_features, out_features, stream);
    else if (rows <= detail::kWholeSmallMaxRows)
      launch_whole_k<kAct, detail::WholeKSmall>(x, weight, bias, residual, y, rows, in_features, out_features, stream);
    else
      launch_whole_k<kAct, detail::WholeKLarge>(x, weight, bias, residual, y, rows, in_features, out_features, stream);
  } else if (((rows + 63) / 64) * ((out_features + 63) / 64) >= 264) {
    // Large tiles once they give at least two blocks per SM of an H100 (132 SMs); else small ones.
    detail::launch_tiled_product<FloatChains, kAct, 16, 16, 4, 4>(x, weight, bias, residual, y, rows, in_features,
                                                                  out_features, stream, "linear");
  } else {
    detail::launch_tiled_product<FloatChains, kAct, 8, 16, 2, 2>(x, weight, bias, residual, y, rows, in_features,
                                                                 out_features, stream, "linear");
  }
}

}  // namespace

void linear(const float* x, const float* weight, const float* bias, const float* residual, float* y,
            std::int64_t rows, int in_features, int out_features, Epilogue act, cudaStream_t stream) {
  detail::require(rows >= 0 && in_features >= 0 && out_features >= 0, "linear: negative size");
  if (rows == 0 || out_features == 0) return;
  if (act == Epilogue::kGelu)
    dispatch<Epilogue::kGelu>(x, weight, bias, residual, y, rows, in_features, out_features, stream);
  else
    dispatch<Epilogue::kNone>(x, weight, bias, residual, y, rows, in_features, out_features, stream);
}

void linear_append_kv(const float* x, const float* weight, float* y, std::int64_t rows, int in_features,
                      const KVAppend& append, cudaStream_t stream) {
  detail::require(rows >= 0 && in_features >= 0, "linear_append_kv: negative size");
  detail::require(rows % 2 == 0, "linear_append_kv: rows must be 2 a sample (buffer row, then target row)");
  detail::require(append.n_heads >= 1 && append.head_dim >= 1 && append.capacity >= 1,
                  "linear_append_kv: heads, head_dim and capacity must be >= 1");
  if (rows == 0) return;
  detail::require(append.k_buffer != nullptr && append.v_buffer != nullptr && append.step != nullptr,
                  "linear_append_kv: null buffer or step");
  const int d_model = append.n_heads * append.head_dim;
  // One launch up to 2048 rows (a decode step up to B 1024: B 256 710 against 733 us a step, H200,
  // paper config); above, the 64 x 64 tiles' scattered append cost more than its own launch
  // (B 4096 4072 against 4062 us; bench/engine/NOTES.md, v9).
  if (detail::whole_k_fits(x, weight, in_features) && rows <= detail::kWholeSmallMaxRows) {
    if (rows <= detail::kWholeTinyMaxRows)
      launch_whole_k<Epilogue::kNone, detail::WholeKTiny, true>(x, weight, nullptr, nullptr, y, rows, in_features,
                                                                3 * d_model, stream, append);
    else
      launch_whole_k<Epilogue::kNone, detail::WholeKSmall, true>(x, weight, nullptr, nullptr, y, rows, in_features,
                                                                 3 * d_model, stream, append);
    return;
  }
  linear(x, weight, nullptr, nullptr, y, rows, in_features, 3 * d_model, Epilogue::kNone, stream);
  append_buffer_kv_step(y, rows, append, stream);
}

}  // namespace artabpfn::kernels
