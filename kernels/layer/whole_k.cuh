#pragma once
// The whole-k product for few rows (a decode step), shared by linear() and linear_layer_norm():
// a block of 128 threads owns a tile of 8 R rows x 32 outputs and stages its x rows and W rows
// for all of k at once with 16-byte cp.async copies into dynamic shared memory (one wait, one
// barrier; a k-tiled loop exposes a global-memory latency per k-tile). Thread (ty = tid / 16,
// tx = tid % 16) then runs the chains of rows ty + 8 i (i < R) and outputs tx + 16 j (j < 2) from
// shared memory, 4 k at a time (R + 2 float4 reads feed 8 R FMAs). R (1, 2 or 4) grows with the
// launch's rows (whole_k_rows_per_thread): at B 1 a tile of 8 rows wastes least work on padding
// rows, at thousands of rows 32-row tiles read each W row a quarter as often (bench/engine/
// NOTES.md, v6). Rows are padded by 4 floats: a warp's W reads touch 16 rows whose starts are 4
// banks apart (conflict-free phases), its x reads 2 rows (broadcasts).
// Needs in_features % 4 == 0, in_features <= kWholeMaxK and 16-byte aligned x and weight.
//
// The reduction is linear()'s blocked sequence (kernels/layer.hpp): a float32 FMA chain over each
// block of 32 consecutive k from 0, the block sums added in double in block order, rounded to
// float once; so every tile shape gives bitwise the same output.
#include <cuda_pipeline.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "kernels/launch.cuh"

namespace artabpfn::kernels::detail {

constexpr int kChainK = 32;  // the length of one float chain of the blocked reduction
constexpr int kWholeMaxK = 256;
constexpr int kWholeOuts = 32;  // outputs of a tile
constexpr int kWholeThreads = 128;
constexpr int kWholeOutsPerThread = 2;  // outputs tx + 16 j
constexpr int kWholeMaxRows = 32;       // rows of the largest tile (R = 4)

// R, the rows of a thread (ty + 8 i, i < R; a tile has 8 R rows), for a launch of `rows` rows.
inline int whole_k_rows_per_thread(std::int64_t rows) { return rows <= 64 ? 1 : rows <= 2048 ? 2 : 4; }

// Few rows: the 64 x 64 tiles of the k-tiled kernel would give fewer than two blocks per SM of an
// H100 (132 SMs), as in a decode step; the whole-k kernels serve those.
inline bool few_rows(std::int64_t rows, int out_features) {
  return ((rows + 63) / 64) * ((static_cast<std::int64_t>(out_features) + 63) / 64) < 264;
}

inline bool whole_k_fits(const float* x, const float* weight, int in_features) {
  return reinterpret_cast<std::uintptr_t>(x) % 16 == 0 && reinterpret_cast<std::uintptr_t>(weight) % 16 == 0 &&
         in_features % 4 == 0 && in_features <= kWholeMaxK;
}

// Dynamic shared memory of a tile: its tile_rows x rows, then its 32 W rows, in_features + 4
// floats apart.
constexpr std::size_t whole_k_shared_bytes(int tile_rows, int in_features) {
  return static_cast<std::size_t>(tile_rows + kWholeOuts) * static_cast<std::size_t>(in_features + 4) * sizeof(float);
}

// Stages `count` rows [first, first + count) of a row-major [*, in_features] matrix (rows past
// `limit` as zeros) into shared [count][in_features + 4] with 16-byte cp.async copies; the
// caller commits and waits.
__device__ __forceinline__ void stage_rows_async(float* dst, const float* __restrict__ src, std::int64_t first,
                                                 int count, std::int64_t limit, int in_features) {
  const int chunks = in_features / 4, stride = in_features + 4;
  for (int idx = static_cast<int>(threadIdx.x); idx < count * chunks; idx += kWholeThreads) {
    const int rr = idx / chunks, c = idx - rr * chunks;
    float* to = dst + rr * stride + 4 * c;
    const std::int64_t row = first + rr;
    if (row < limit) __pipeline_memcpy_async(to, src + row * in_features + 4 * c, 16);
    else *reinterpret_cast<float4*>(to) = make_float4(0.f, 0.f, 0.f, 0.f);
  }
}

// This thread's sums (before bias) over the staged x rows xs and W rows ws: sums[i][j] for tile
// row ty + 8 i and tile output tx + 16 j, each rounded to float once.
template <int kR>
__device__ __forceinline__ void whole_k_dot(const float* xs, const float* ws, int in_features,
                                            float (&sums)[kR][kWholeOutsPerThread]) {
  constexpr int kO = kWholeOutsPerThread;
  const int tid = static_cast<int>(threadIdx.x), stride = in_features + 4;
  const float* x0 = xs + (tid / 16) * stride;
  const float* w0 = ws + (tid % 16) * stride;
  double acc[kR][kO];
#pragma unroll
  for (int i = 0; i < kR; ++i)
#pragma unroll
    for (int j = 0; j < kO; ++j) acc[i][j] = 0.0;
  for (int k0 = 0; k0 < in_features; k0 += kChainK) {  // one block of the blocked reduction
    const int k_end = min(k0 + kChainK, in_features);
    float part[kR][kO];
#pragma unroll
    for (int i = 0; i < kR; ++i)
#pragma unroll
      for (int j = 0; j < kO; ++j) part[i][j] = 0.0f;
#pragma unroll 2
    for (int k = k0; k < k_end; k += 4) {
      float4 a[kR], b[kO];
#pragma unroll
      for (int i = 0; i < kR; ++i) a[i] = *reinterpret_cast<const float4*>(x0 + 8 * i * stride + k);
#pragma unroll
      for (int j = 0; j < kO; ++j) b[j] = *reinterpret_cast<const float4*>(w0 + 16 * j * stride + k);
#pragma unroll
      for (int i = 0; i < kR; ++i)
#pragma unroll
        for (int j = 0; j < kO; ++j) {
          part[i][j] = fmaf(a[i].x, b[j].x, part[i][j]);
          part[i][j] = fmaf(a[i].y, b[j].y, part[i][j]);
          part[i][j] = fmaf(a[i].z, b[j].z, part[i][j]);
          part[i][j] = fmaf(a[i].w, b[j].w, part[i][j]);
        }
    }
#pragma unroll
    for (int i = 0; i < kR; ++i)
#pragma unroll
      for (int j = 0; j < kO; ++j) acc[i][j] += static_cast<double>(part[i][j]);
  }
#pragma unroll
  for (int i = 0; i < kR; ++i)
#pragma unroll
    for (int j = 0; j < kO; ++j) sums[i][j] = static_cast<float>(acc[i][j]);
}

// One tile of a whole-k kernel (rows [8 kR blockIdx.x, + 8 kR), outputs [out0, out0 + 32)),
// in the dynamic shared memory whole_k_shared_bytes(8 kR, in_features): stages the W rows, waits
// for the previous kernel (kernels/launch.cuh: only weights are read before), stages the x rows,
// and leaves this thread's sums (whole_k_dot) in `sums`.
template <int kR>
__device__ __forceinline__ void whole_k_tile(const float* __restrict__ x, const float* __restrict__ weight,
                                             std::int64_t rows, int in_features, int out_features, int out0,
                                             float (&sums)[kR][kWholeOutsPerThread]) {
  constexpr int kTileRows = 8 * kR;
  extern __shared__ __align__(16) float whole_k_staged[];  // x rows, then W rows
  float* xs = whole_k_staged;
  float* ws = whole_k_staged + kTileRows * (in_features + 4);
  stage_rows_async(ws, weight, out0, kWholeOuts, out_features, in_features);
  start_after_previous_kernel();
  stage_rows_async(xs, x, static_cast<std::int64_t>(blockIdx.x) * kTileRows, kTileRows, rows, in_features);
  __pipeline_commit();
  __pipeline_wait_prior(0);
  __syncthreads();
  whole_k_dot<kR>(xs, ws, in_features, sums);
}

}  // namespace artabpfn::kernels::detail
