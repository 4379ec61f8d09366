#pragma once
// The whole-k product, shared by linear() and linear_layer_norm(): a block owns a tile of rows x
// outputs and stages its x rows and W rows for all of k at once with 16-byte cp.async copies into
// dynamic shared memory (one wait, one barrier; a k-tiled loop exposes a global-memory latency
// per k-tile). Owner thread (ty = tid / 16, tx = tid % 16) then gets the chains of rows ty + T i
// (i < R, T = owners / 16) and outputs tx + 16 j (j < O), run from shared memory 4 k at a time
// (R + O float4 reads feed 4 R O FMAs: a register micro-tile) by it alone or, split by chain
// block, by it and kSplit - 1 helpers. Rows are padded by 4 floats: a warp's W reads touch 16
// rows whose starts are 4 banks apart (conflict-free phases), its x reads 2 rows (broadcasts). Needs in_features % 4 == 0, in_features <= kWholeMaxK and 16-byte
// aligned x and weight.
//
// Tile shapes (WholeKTile) follow the launch's rows (bench/engine/NOTES.md, v6 and v7): up to 64
// rows 8 x 32 (128 owners, 1 x 2 a thread: least work on padding rows at B 1; 4 threads run an
// owner's chains), up to 2048 rows 16 x 32 (128, 2 x 2), above 64 x 64 (256, 4 x 4: each W row
// read by a quarter as many blocks, 2 float4 reads per 8 FMAs). linear_layer_norm uses the first
// two (its clusters are over 32-output tiles).
//
// The reduction is linear()'s blocked sequence (kernels/layer.hpp): a float32 FMA chain over each
// block of 32 consecutive k from 0, the block sums added in double in block order, rounded to
// float once; so every tile shape gives bitwise the same output.
#include <cuda_pipeline.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "kernels/alignment.hpp"
#include "kernels/launch.cuh"

namespace artabpfn::kernels::detail {

constexpr int kChainK = 32;  // the length of one float chain of the blocked reduction

// Four k of a chain, in k order: part += a.x b.x, then .y, .z, .w, each one FMA (shared with the
// cluster decode step's products, which must round as these do).
__device__ __forceinline__ void chain_fma4(float& part, const float4& a, const float4& b) {
  part = fmaf(a.x, b.x, part);
  part = fmaf(a.y, b.y, part);
  part = fmaf(a.z, b.z, part);
  part = fmaf(a.w, b.w, part);
}

constexpr int kWholeMaxK = 256;

// A tile of kThreads "owner" threads, each owning kR rows (ty + (kThreads / 16) i) and kO outputs
// (tx + 16 j), in a block of kThreads x kSplit threads: with kSplit > 1, thread owner + kThreads g
// computes the float chains of the blocks g, g + kSplit, ... of the owner's outputs, and the owner
// adds all blocks' chains in block order (the same sequence as one thread doing all: the same bits,
// in a kSplit-th of the dependent chain length). Only the owners (tid < kThreads) hold sums.
template <int kThreads, int kR, int kO, int kSplit = 1>
struct WholeKTile {
  static constexpr int owners = kThreads;
  static constexpr int split = kSplit;
  static constexpr int threads = kThreads * kSplit;  // the block
  static constexpr int rows_per_thread = kR;
  static constexpr int outs_per_thread = kO;
  static constexpr int row_step = kThreads / 16;
  static constexpr int rows = row_step * kR;
  static constexpr int outs = 16 * kO;
  // Whether thread tid of the block is an owner (holds sums after whole_k_tile).
  __host__ __device__ static constexpr bool holds_sums(int tid) { return kSplit == 1 || tid < kThreads; }
  // Dynamic shared memory: the tile's x rows, then its W rows, in_features + 4 floats apart, then
  // (kSplit > 1) every chain block's float sums of every owner.
  static constexpr std::size_t shared_bytes(int in_features) {
    const std::size_t chains = kSplit > 1 ? static_cast<std::size_t>((in_features + 31) / 32) * kR * kO * kThreads : 0;
    return (static_cast<std::size_t>(rows + outs) * static_cast<std::size_t>(in_features + 4) + chains) * sizeof(float);
  }
};
// Up to 64 rows the chain blocks are split over 4 threads (a decode step at B <= 32: a handful of
// tiles, so the SMs have warps to spare).
using WholeKTiny = WholeKTile<128, 1, 2, 4>;   // up to 64 rows
using WholeKSmall = WholeKTile<128, 2, 2>;     // up to 2048 rows
using WholeKLarge = WholeKTile<256, 4, 4>;     // more
constexpr std::int64_t kWholeTinyMaxRows = 64, kWholeSmallMaxRows = 2048;
// linear_layer_norm's 16 x 32 tiles up to 256 rows (B <= 128 in a decode step: at most 64 blocks)
// split their chains too: B 128 617 -> 557 us a step, B 64 512 -> 497 (H200). Not linear's, nor
// above 256 rows: B 256 got slower (655 -> 704; bench/engine/NOTES.md, v10).
using WholeKSmallSplit = WholeKTile<128, 2, 2, 4>;
constexpr std::int64_t kWholeSmallSplitMaxRows = 256;

inline bool whole_k_fits(const float* x, const float* weight, int in_features) {
  return aligned_16(x) && aligned_16(weight) && in_features % 4 == 0 && in_features <= kWholeMaxK;
}

// Stages `count` rows [first, first + count) of a row-major [*, in_features] matrix (rows past
// `limit` as zeros) into shared [count][in_features + 4] with 16-byte cp.async copies by the
// block's kThreads threads; the caller commits and waits.
template <int kThreads>
__device__ __forceinline__ void stage_rows_async(float* dst, const float* __restrict__ src, std::int64_t first,
                                                 int count, std::int64_t limit, int in_features) {
  const int chunks = in_features / 4, stride = in_features + 4;
  for (int idx = static_cast<int>(threadIdx.x); idx < count * chunks; idx += kThreads) {
    const int rr = idx / chunks, c = idx - rr * chunks;
    float* to = dst + rr * stride + 4 * c;
    const std::int64_t row = first + rr;
    if (row < limit) __pipeline_memcpy_async(to, src + row * in_features + 4 * c, 16);
    else *reinterpret_cast<float4*>(to) = make_float4(0.f, 0.f, 0.f, 0.f);
  }
}

// An owner thread's sums (before bias) over the staged x rows xs and W rows ws: sums[i][j] for
// tile row ty + row_step i and tile output tx + 16 j, each rounded to float once. chains: the
// shared scratch of Tile::shared_bytes (kSplit > 1). Every thread of the block must call it.
template <class Tile>
__device__ __forceinline__ void whole_k_dot(const float* xs, const float* ws, float* chains, int in_features,
                                            float (&sums)[Tile::rows_per_thread][Tile::outs_per_thread]) {
  constexpr int kR = Tile::rows_per_thread, kO = Tile::outs_per_thread, kStep = Tile::row_step;
  constexpr int kSplit = Tile::split;
  const int tid = static_cast<int>(threadIdx.x), stride = in_features + 4;
  // (Constants without a split: a chain loop from a run-time start compiled measurably slower.)
  const int owner = kSplit == 1 ? tid : tid % Tile::owners, group = kSplit == 1 ? 0 : tid / Tile::owners;
  const float* x0 = xs + (owner / 16) * stride;
  const float* w0 = ws + (owner % 16) * stride;
  double acc[kR][kO];
#pragma unroll
  for (int i = 0; i < kR; ++i)
#pragma unroll
    for (int j = 0; j < kO; ++j) acc[i][j] = 0.0;
  // One block of the blocked reduction per pass: blocks group, group + kSplit, ...
  for (int k0 = kChainK * group; k0 < in_features; k0 += kChainK * kSplit) {
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
      for (int i = 0; i < kR; ++i) a[i] = *reinterpret_cast<const float4*>(x0 + kStep * i * stride + k);
#pragma unroll
      for (int j = 0; j < kO; ++j) b[j] = *reinterpret_cast<const float4*>(w0 + 16 * j * stride + k);
#pragma unroll
      for (int i = 0; i < kR; ++i)
#pragma unroll
        for (int j = 0; j < kO; ++j) chain_fma4(part[i][j], a[i], b[j]);
    }
    if constexpr (kSplit == 1) {
#pragma unroll
      for (int i = 0; i < kR; ++i)
#pragma unroll
        for (int j = 0; j < kO; ++j) acc[i][j] += static_cast<double>(part[i][j]);
    } else {  // [block][i][j][owner]: an owner's blocks are read back in block order below
      float* mine = chains + (k0 / kChainK) * (kR * kO * Tile::owners) + owner;
#pragma unroll
      for (int i = 0; i < kR; ++i)
#pragma unroll
        for (int j = 0; j < kO; ++j) mine[(i * kO + j) * Tile::owners] = part[i][j];
    }
  }
  if constexpr (kSplit > 1) {
    __syncthreads();
    if (group != 0) return;
    const int blocks = (in_features + kChainK - 1) / kChainK;
    for (int b = 0; b < blocks; ++b) {
      const float* chain = chains + b * (kR * kO * Tile::owners) + owner;
#pragma unroll
      for (int i = 0; i < kR; ++i)
#pragma unroll
        for (int j = 0; j < kO; ++j) acc[i][j] += static_cast<double>(chain[(i * kO + j) * Tile::owners]);
    }
  }
#pragma unroll
  for (int i = 0; i < kR; ++i)
#pragma unroll
    for (int j = 0; j < kO; ++j) sums[i][j] = static_cast<float>(acc[i][j]);
}

// One tile (rows [Tile::rows blockIdx.x, + Tile::rows), outputs [out0, out0 + Tile::outs)) in the
// dynamic shared memory Tile::shared_bytes(in_features): stages the W rows, waits for the
// previous kernel (kernels/launch.cuh: only weights are read before), stages the x rows, and
// leaves an owner thread's sums (whole_k_dot) in `sums`. Every thread of the block must call it.
template <class Tile>
__device__ __forceinline__ void whole_k_tile(const float* __restrict__ x, const float* __restrict__ weight,
                                             std::int64_t rows, int in_features, int out_features, int out0,
                                             float (&sums)[Tile::rows_per_thread][Tile::outs_per_thread]) {
  extern __shared__ __align__(16) float whole_k_staged[];  // x rows, W rows, chain sums
  float* xs = whole_k_staged;
  float* ws = whole_k_staged + Tile::rows * (in_features + 4);
  float* chains = Tile::split > 1 ? ws + Tile::outs * (in_features + 4) : nullptr;
  stage_rows_async<Tile::threads>(ws, weight, out0, Tile::outs, out_features, in_features);
  start_after_previous_kernel();
  stage_rows_async<Tile::threads>(xs, x, static_cast<std::int64_t>(blockIdx.x) * Tile::rows, Tile::rows, rows,
                                  in_features);
  __pipeline_commit();
  __pipeline_wait_prior(0);
  __syncthreads();
  whole_k_dot<Tile>(xs, ws, chains, in_features, sums);
}

}  // namespace artabpfn::kernels::detail
