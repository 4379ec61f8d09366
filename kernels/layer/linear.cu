// linear: y[rows, out] = act(x[rows, in] W^T + bias) + residual, W in PyTorch [out, in] layout.
//
// A shared-memory tiled float32 product (no cuBLAS, no TF32, no tensor cores), two tile shapes:
//   large  256 threads, 64 rows x 64 outputs, 4 x 4 outputs per thread (rows ty + 16 i, outputs
//          tx + 16 j, ty = tid / 16, tx = tid % 16), so a warp's shared reads are broadcasts (x)
//          or 16 consecutive words (W), and its stores of y are 16 consecutive floats per row
//   small  128 threads, 16 rows x 32 outputs, 2 x 2 per thread (rows ty + 8 i, outputs tx + 16 j),
//          used when the large tiles would give fewer than 264 blocks (a decode step: at B 256
//          the [512, 128] maps had 16 blocks of the large tile for 132 SMs)
//   k is staged through shared memory 32 at a time
//   grid   x: row tiles (up to 2^31 - 1), y: output tiles
//   epilogue (in registers): + bias, then the exact GELU when asked, then + residual
//
// The reduction, blocked: each output element is computed by one thread as a double sum over the
// blocks of 32 consecutive k (k = 0..31, 32..63, ...) of a float32 FMA chain per block,
// part = fma(x[r, k], W[o, k], part) from part = 0 in increasing k, added to the double
// accumulator in block order and rounded to float once at the end. Padded k (past in_features)
// are skipped rather than multiplied by zero. A float chain's rounding error grows with its length
// and with the size of its running sum; chains of 32 keep both small for the model's k = 128 and
// 256 (the engine's float32 density error is mostly the products' accumulation: README, "Where
// the float32 error comes from"), for 2 conversions and 2 double adds per 64 FMAs.
// Why the order is fixed: nothing in that sequence depends on how many rows the launch has, on
// which tile or thread the row lands in, or on the other rows, so a row's output is bitwise
// identical for any batch (batch invariance); rows past the end are loaded as zeros and never
// stored.
#include <cuda_pipeline.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"
#include "kernels/layer.hpp"
#include "kernels/layer/device_math.cuh"

namespace artabpfn::kernels {
namespace {

constexpr int kTileK = 32;  // also the length of a float chain of the blocked reduction (above)

// Tile shapes: kTy x kTx threads, each owning kPr rows (ty + kTy i) x kPo outputs (tx + kTx j).
//   large  16 x 16 threads, 4 x 4 each: 64 rows x 64 outputs (many rows)
//   small   8 x 16 threads, 2 x 2 each: 16 rows x 32 outputs (a decode step's few hundred rows:
//           8x the blocks of the large tile, so the launch spreads over the SMs)
// Both run the same per-output chain (see the top of this file), so which one a launch uses never
// changes a bit of the result.
template <Epilogue kAct, int kTy, int kTx, int kPr, int kPo>
__global__ void __launch_bounds__(kTy * kTx)
    linear_kernel(const float* __restrict__ x, const float* __restrict__ weight, const float* __restrict__ bias,
                  const float* residual, float* y, std::int64_t rows, int in_features, int out_features) {
  detail::start_after_previous_kernel();
  constexpr int kThreads = kTy * kTx;
  constexpr int kTileRows = kTy * kPr;
  constexpr int kTileOuts = kTx * kPo;
  // [k][row] and [k][output]; the +1 pad makes the transposing stores conflict-free.
  __shared__ float xs[kTileK][kTileRows + 1];
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
    // Stage x[row0 .. +kTileRows, k0 .. +32] and W[out0 .. +kTileOuts, k0 .. +32]; consecutive
    // threads read consecutive k of one row (128-byte segments).
#pragma unroll
    for (int l = 0; l < (kTileRows * kTileK + kThreads - 1) / kThreads; ++l) {
      const int idx = tid + l * kThreads;
      if (idx >= kTileRows * kTileK) break;
      const int kk = idx % kTileK;
      const int rr = idx / kTileK;
      const std::int64_t row = row0 + rr;
      xs[kk][rr] = (row < rows && kk < k_count) ? x[row * in_features + k0 + kk] : 0.0f;
    }
#pragma unroll
    for (int l = 0; l < (kTileOuts * kTileK + kThreads - 1) / kThreads; ++l) {
      const int idx = tid + l * kThreads;
      if (idx >= kTileOuts * kTileK) break;
      const int kk = idx % kTileK;
      const int rr = idx / kTileK;
      const int out = out0 + rr;
      ws[kk][rr] = (out < out_features && kk < k_count)
                       ? weight[static_cast<std::int64_t>(out) * in_features + k0 + kk]
                       : 0.0f;
    }
    __syncthreads();
    float part[kPr][kPo];  // this k-tile's chain: one block of the blocked reduction
#pragma unroll
    for (int i = 0; i < kPr; ++i)
#pragma unroll
      for (int j = 0; j < kPo; ++j) part[i][j] = 0.0f;
    if (k_count == kTileK) {
#pragma unroll
      for (int kk = 0; kk < kTileK; ++kk) {
        float a[kPr], b[kPo];
#pragma unroll
        for (int i = 0; i < kPr; ++i) a[i] = xs[kk][ty + kTy * i];
#pragma unroll
        for (int j = 0; j < kPo; ++j) b[j] = ws[kk][tx + kTx * j];
#pragma unroll
        for (int i = 0; i < kPr; ++i)
#pragma unroll
          for (int j = 0; j < kPo; ++j) part[i][j] = fmaf(a[i], b[j], part[i][j]);
      }
    } else {
      // The last, partial k-tile: the same chain, stopping at in_features.
      for (int kk = 0; kk < k_count; ++kk) {
        float a[kPr], b[kPo];
#pragma unroll
        for (int i = 0; i < kPr; ++i) a[i] = xs[kk][ty + kTy * i];
#pragma unroll
        for (int j = 0; j < kPo; ++j) b[j] = ws[kk][tx + kTx * j];
#pragma unroll
        for (int i = 0; i < kPr; ++i)
#pragma unroll
          for (int j = 0; j < kPo; ++j) part[i][j] = fmaf(a[i], b[j], part[i][j]);
      }
    }
#pragma unroll
    for (int i = 0; i < kPr; ++i)
#pragma unroll
      for (int j = 0; j < kPo; ++j) acc[i][j] += static_cast<double>(part[i][j]);
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
      float v = static_cast<float>(acc[i][j]);
      if (bias != nullptr) v = v + bias[out];
      if constexpr (kAct == Epilogue::kGelu) v = detail::gelu_exact(v);
      if (residual != nullptr) v = v + residual[at];
      y[at] = v;
    }
  }
}

// Whole-k variant for few rows (a decode step): a block of 128 threads owns 16 rows x 16
// outputs and stages its x rows and W rows for all of k at once with 16-byte cp.async copies
// (one wait, one barrier; the k-tiled kernels above expose a global-memory latency per k-tile),
// then thread (ty = tid / 8, tx = tid % 8) runs the chains of row ty, outputs tx and tx + 8 from
// shared memory, 4 k at a time (float4 reads, rows padded by 4 floats: conflict-free phases).
// Needs in_features % 4 == 0, in_features <= kWholeMaxK and 16-byte aligned x and weight. The
// reduction is the same blocked sequence as above (float chains over 32 k, added in double):
// bitwise the same result.
constexpr int kWholeMaxK = 256;
constexpr int kWholeRows = 16;
constexpr int kWholeOuts = 16;
constexpr int kWholeThreads = 128;

// The product phase of the whole-k kernels: x rows [16][stride] and W rows [16][stride] staged.
template <Epilogue kAct>
__device__ __forceinline__ void whole_k_product(const float* xs, const float* ws, int stride, int in_features,
                                                std::int64_t row0, int out0, std::int64_t rows, int out_features,
                                                const float* __restrict__ bias, const float* residual, float* y) {
  const int tid = static_cast<int>(threadIdx.x);
  const int tx = tid % 8, ty = tid / 8;
  const float* xr = xs + ty * stride;
  const float* w0 = ws + tx * stride;
  const float* w1 = ws + (tx + 8) * stride;
  double acc0 = 0.0, acc1 = 0.0;
  for (int k0 = 0; k0 < in_features; k0 += kTileK) {  // one block of the blocked reduction
    const int k_end = min(k0 + kTileK, in_features);
    float part0 = 0.0f, part1 = 0.0f;
#pragma unroll 4
    for (int k = k0; k < k_end; k += 4) {
      const float4 a = *reinterpret_cast<const float4*>(xr + k);
      const float4 b0 = *reinterpret_cast<const float4*>(w0 + k);
      const float4 b1 = *reinterpret_cast<const float4*>(w1 + k);
      part0 = fmaf(a.x, b0.x, part0);
      part1 = fmaf(a.x, b1.x, part1);
      part0 = fmaf(a.y, b0.y, part0);
      part1 = fmaf(a.y, b1.y, part1);
      part0 = fmaf(a.z, b0.z, part0);
      part1 = fmaf(a.z, b1.z, part1);
      part0 = fmaf(a.w, b0.w, part0);
      part1 = fmaf(a.w, b1.w, part1);
    }
    acc0 += static_cast<double>(part0);
    acc1 += static_cast<double>(part1);
  }
  const std::int64_t row = row0 + ty;
  if (row >= rows) return;
  const float accs[2] = {static_cast<float>(acc0), static_cast<float>(acc1)};
#pragma unroll
  for (int j = 0; j < 2; ++j) {
    const int out = out0 + tx + 8 * j;
    if (out >= out_features) continue;
    const std::int64_t at = row * out_features + out;
    float v = accs[j];
    if (bias != nullptr) v = v + bias[out];
    if constexpr (kAct == Epilogue::kGelu) v = detail::gelu_exact(v);
    if (residual != nullptr) v = v + residual[at];
    y[at] = v;
  }
}

// Stages W rows [out0, out0 + 16) x all k with 16-byte cp.async copies (zeros past out_features).
__device__ __forceinline__ void stage_weight_rows(float* ws, int stride, const float* __restrict__ weight, int out0,
                                                  int in_features, int out_features) {
  const int chunks = in_features / 4;
  for (int idx = static_cast<int>(threadIdx.x); idx < kWholeOuts * chunks; idx += kWholeThreads) {
    const int rr = idx / chunks, c = idx - rr * chunks;
    float* dst = ws + rr * stride + 4 * c;
    const int out = out0 + rr;
    if (out < out_features)
      __pipeline_memcpy_async(dst, weight + static_cast<std::int64_t>(out) * in_features + 4 * c, 16);
    else *reinterpret_cast<float4*>(dst) = make_float4(0.f, 0.f, 0.f, 0.f);
  }
}

// LayerNorm of one row by one warp with detail::row_stats, the statistics of layer_norm.cu, so
// the result depends on the row and width alone. Writes the normalised row to smem_out and/or
// global_out.
template <int kPerLane>
__device__ __forceinline__ void layer_norm_row(const float* a, const float* b, const float* __restrict__ weight,
                                               const float* __restrict__ bias, std::int64_t row, int width,
                                               float* smem_out, float* global_out) {
  const int lane = static_cast<int>(threadIdx.x % 32);
  const std::int64_t base = row * width;
  float v[kPerLane];
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const int j = lane + 32 * i;
    v[i] = j < width ? (b != nullptr ? a[base + j] + b[base + j] : a[base + j]) : 0.0f;
  }
  const auto [m0, delta, denom] = detail::row_stats<kPerLane>(v, lane, width);
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const int j = lane + 32 * i;
    if (j < width) {
      const float o = ((v[i] - m0) - delta) / denom * weight[j] + bias[j];
      if (smem_out != nullptr) smem_out[j] = o;
      if (global_out != nullptr) global_out[base + j] = o;
    }
  }
}

// LN-only launch (the fused path's fallback, layer_norm_rows): one warp per row, 8 rows a block.
template <int kPerLane>
__global__ void __launch_bounds__(256)
    layer_norm_rows_kernel(const float* a, const float* b, const float* __restrict__ weight,
                           const float* __restrict__ bias, float* out, std::int64_t rows, int width) {
  detail::start_after_previous_kernel();
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * 8 + threadIdx.x / 32;
  if (row >= rows) return;
  layer_norm_row<kPerLane>(a, b, weight, bias, row, width, nullptr, out);
}

// y = act(LN(a + b) W^T + bias) + residual with the LN in the prologue: the block normalises its
// 16 rows (warp w: rows w, w + 4, ...) into shared memory while W's rows arrive by cp.async;
// blocks of output column 0 also write the normalised rows to ln_out.
template <Epilogue kAct, int kPerLane>
__global__ void __launch_bounds__(kWholeThreads)
    layer_norm_linear_kernel(const float* a, const float* b, const float* __restrict__ ln_weight,
                             const float* __restrict__ ln_bias, float* ln_out, const float* __restrict__ weight,
                             const float* __restrict__ bias, const float* residual, float* y, std::int64_t rows,
                             int in_features, int out_features) {
  __shared__ __align__(16) float xs[kWholeRows * (kWholeMaxK + 4)];
  __shared__ __align__(16) float ws[kWholeOuts * (kWholeMaxK + 4)];
  const int stride = in_features + 4;
  const std::int64_t row0 = static_cast<std::int64_t>(blockIdx.x) * kWholeRows;
  const int out0 = static_cast<int>(blockIdx.y) * kWholeOuts;
  stage_weight_rows(ws, stride, weight, out0, in_features, out_features);  // weights: before the wait
  __pipeline_commit();
  detail::start_after_previous_kernel();
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  for (int rr = warp; rr < kWholeRows; rr += kWholeThreads / 32) {
    const std::int64_t row = row0 + rr;
    if (row < rows) {
      layer_norm_row<kPerLane>(a, b, ln_weight, ln_bias, row, in_features, xs + rr * stride,
                               blockIdx.y == 0 ? ln_out : nullptr);
    } else {
      for (int j = lane; j < in_features; j += 32) xs[rr * stride + j] = 0.0f;
    }
  }
  __pipeline_wait_prior(0);
  __syncthreads();
  whole_k_product<kAct>(xs, ws, stride, in_features, row0, out0, rows, out_features, bias, residual, y);
}

template <Epilogue kAct>
__global__ void __launch_bounds__(kWholeThreads)
    linear_whole_k_kernel(const float* __restrict__ x, const float* __restrict__ weight,
                          const float* __restrict__ bias, const float* residual, float* y, std::int64_t rows,
                          int in_features, int out_features) {
  __shared__ __align__(16) float xs[kWholeRows * (kWholeMaxK + 4)];
  __shared__ __align__(16) float ws[kWholeOuts * (kWholeMaxK + 4)];
  const int tid = static_cast<int>(threadIdx.x);
  const int stride = in_features + 4;
  const int chunks = in_features / 4;
  const std::int64_t row0 = static_cast<std::int64_t>(blockIdx.x) * kWholeRows;
  const int out0 = static_cast<int>(blockIdx.y) * kWholeOuts;
  stage_weight_rows(ws, stride, weight, out0, in_features, out_features);  // weights: before the wait
  detail::start_after_previous_kernel();
  for (int idx = tid; idx < kWholeRows * chunks; idx += kWholeThreads) {
    const int rr = idx / chunks, c = idx - rr * chunks;
    float* dst = xs + rr * stride + 4 * c;
    const std::int64_t row = row0 + rr;
    if (row < rows) __pipeline_memcpy_async(dst, x + row * in_features + 4 * c, 16);
    else *reinterpret_cast<float4*>(dst) = make_float4(0.f, 0.f, 0.f, 0.f);
  }
  __pipeline_commit();
  __pipeline_wait_prior(0);
  __syncthreads();

  whole_k_product<kAct>(xs, ws, stride, in_features, row0, out0, rows, out_features, bias, residual, y);
}

template <Epilogue kAct, int kTy, int kTx, int kPr, int kPo>
void launch(const float* x, const float* weight, const float* bias, const float* residual, float* y,
            std::int64_t rows, int in_features, int out_features, cudaStream_t stream) {
  constexpr int kTileRows = kTy * kPr, kTileOuts = kTx * kPo;
  const dim3 grid(detail::blocks_for(rows, kTileRows, "linear"),
                  static_cast<unsigned int>((out_features + kTileOuts - 1) / kTileOuts));
  detail::require(grid.y <= 65535u, "linear: out_features too large for one launch");
  detail::launch(linear_kernel<kAct, kTy, kTx, kPr, kPo>, grid, kTy * kTx, 0, stream, x, weight, bias, residual, y,
                 rows, in_features, out_features);
}

template <Epilogue kAct>
void dispatch(const float* x, const float* weight, const float* bias, const float* residual, float* y,
              std::int64_t rows, int in_features, int out_features, cudaStream_t stream) {
  // Large tiles once they give at least two blocks per SM of an H100 (132 SMs); else small ones.
  const std::int64_t large_blocks = ((rows + 63) / 64) * ((out_features + 63) / 64);
  const bool aligned = reinterpret_cast<std::uintptr_t>(x) % 16 == 0 && reinterpret_cast<std::uintptr_t>(weight) % 16 == 0;
  if (large_blocks >= 264) {
    launch<kAct, 16, 16, 4, 4>(x, weight, bias, residual, y, rows, in_features, out_features, stream);
  } else if (aligned && in_features % 4 == 0 && in_features <= kWholeMaxK) {
    const dim3 grid(detail::blocks_for(rows, kWholeRows, "linear"),
                    static_cast<unsigned int>((out_features + kWholeOuts - 1) / kWholeOuts));
    detail::require(grid.y <= 65535u, "linear: out_features too large for one launch");
    detail::launch(linear_whole_k_kernel<kAct>, grid, kWholeThreads, 0, stream, x, weight, bias, residual, y, rows,
                   in_features, out_features);
  } else {
    launch<kAct, 8, 16, 2, 2>(x, weight, bias, residual, y, rows, in_features, out_features, stream);
  }
}

template <int kPerLane>
void layer_norm_linear_width(const float* a, const float* b, const float* ln_weight, const float* ln_bias,
                             float* ln_out, const float* weight, const float* bias, const float* residual, float* y,
                             std::int64_t rows, int width, int out_features, Epilogue act, cudaStream_t stream) {
  const std::int64_t large_blocks = ((rows + 63) / 64) * ((out_features + 63) / 64);
  const bool fused = large_blocks < 264 && width % 4 == 0 && reinterpret_cast<std::uintptr_t>(weight) % 16 == 0;
  if (fused && out_features > 0) {
    const dim3 grid(detail::blocks_for(rows, kWholeRows, "layer_norm_linear"),
                    static_cast<unsigned int>((out_features + kWholeOuts - 1) / kWholeOuts));
    detail::require(grid.y <= 65535u, "layer_norm_linear: out_features too large for one launch");
    if (act == Epilogue::kGelu)
      detail::launch(layer_norm_linear_kernel<Epilogue::kGelu, kPerLane>, grid, kWholeThreads, 0, stream, a, b,
                     ln_weight, ln_bias, ln_out, weight, bias, residual, y, rows, width, out_features);
    else
      detail::launch(layer_norm_linear_kernel<Epilogue::kNone, kPerLane>, grid, kWholeThreads, 0, stream, a, b,
                     ln_weight, ln_bias, ln_out, weight, bias, residual, y, rows, width, out_features);
    return;
  }
  detail::launch(layer_norm_rows_kernel<kPerLane>, detail::blocks_for(rows, 8, "layer_norm_linear"), 256, 0, stream, a,
                 b, ln_weight, ln_bias, ln_out, rows, width);
  linear(ln_out, weight, bias, residual, y, rows, width, out_features, act, stream);
}

}  // namespace

void layer_norm_linear(const float* a, const float* b, const float* ln_weight, const float* ln_bias, float* ln_out,
                       const float* weight, const float* bias, const float* residual, float* y, std::int64_t rows,
                       int width, int out_features, Epilogue act, cudaStream_t stream) {
  detail::require(rows >= 0 && width >= 1 && out_features >= 0, "layer_norm_linear: bad size");
  detail::require(ln_out != nullptr && ln_out != a && ln_out != b && y != a && y != b && y != ln_out,
                  "layer_norm_linear: ln_out and y must be distinct from the inputs and each other");
  if (rows == 0) return;
  if (width <= 32)
    layer_norm_linear_width<1>(a, b, ln_weight, ln_bias, ln_out, weight, bias, residual, y, rows, width, out_features,
                               act, stream);
  else if (width <= 64)
    layer_norm_linear_width<2>(a, b, ln_weight, ln_bias, ln_out, weight, bias, residual, y, rows, width, out_features,
                               act, stream);
  else if (width <= 128)
    layer_norm_linear_width<4>(a, b, ln_weight, ln_bias, ln_out, weight, bias, residual, y, rows, width, out_features,
                               act, stream);
  else if (width <= 256)
    layer_norm_linear_width<8>(a, b, ln_weight, ln_bias, ln_out, weight, bias, residual, y, rows, width, out_features,
                               act, stream);
  else {  // wide rows: the plain LayerNorm kernel, then the product
    layer_norm(a, b, ln_weight, ln_bias, ln_out, rows, width, stream);
    linear(ln_out, weight, bias, residual, y, rows, width, out_features, act, stream);
  }
}

void layer_norm_rows(const float* a, const float* b, const float* weight, const float* bias, float* y,
                     std::int64_t rows, int width, cudaStream_t stream) {
  detail::require(rows >= 0 && width >= 1, "layer_norm_rows: bad size");
  if (rows == 0) return;
  const unsigned int grid = detail::blocks_for(rows, 8, "layer_norm_rows");
  const auto run = [&](auto kernel) {
    detail::launch(kernel, grid, 256, 0, stream, a, b, weight, bias, y, rows, width);
  };
  if (width <= 32)
    run(layer_norm_rows_kernel<1>);
  else if (width <= 64)
    run(layer_norm_rows_kernel<2>);
  else if (width <= 128)
    run(layer_norm_rows_kernel<4>);
  else if (width <= 256)
    run(layer_norm_rows_kernel<8>);
  else
    layer_norm(a, b, weight, bias, y, rows, width, stream);
}

void linear(
const float* x, const float* weight, const float* bias, const float* residual, float* y,
            std::int64_t rows, int in_features, int out_features, Epilogue act, cudaStream_t stream) {
  detail::require(rows >= 0 && in_features >= 0 && out_features >= 0, "linear: negative size");
  if (rows == 0 || out_features == 0) return;
  if (act == Epilogue::kGelu)
    dispatch<Epilogue::kGelu>(x, weight, bias, residual, y, rows, in_features, out_features, stream);
  else
    dispatch<Epilogue::kNone>(x, weight, bias, residual, y, rows, in_features, out_features, stream);
}

}  // namespace artabpfn::kernels
