// tensor_core_linear: linear() with its products on the tensor cores (mma.sync m16n8k8, TF32
// operands, float32 accumulators), in one of two arithmetics (kernels/layer.hpp,
// docs/precisions.md "The engine's precisions on the GPU").
//
// Tiles: 128 threads (4 warps) a block, 64 rows x 32 outputs; warp w owns rows 16 w .. 16 w + 15
// and the block's 32 outputs as four m16n8 accumulator fragments. x is staged as [row][k] and W as
// [output][k] in shared memory, in one of two ways (the same MMAs on the same values either way):
//   whole k  where whole_k_fits (in_features % 4 == 0, <= 256, 16-byte aligned x and W: every
//            product of the model): all of k at once with 16-byte cp.async copies (one wait, one
//            barrier), rows in_features + 4 floats apart, the 4 floats past in_features zero;
//   blocked  otherwise: 32 k at a time with plain loads, rows 36 floats apart.
// At in_features 128 and 256 the row pitch is 4 banks past a multiple of 32, so a fragment's 32
// reads fall in 32 different banks.
//   grid  x: row tiles (up to 2^31 - 1), y: output tiles
// Fragments (PTX ISA, mma.m16n8k8 .tf32): lane = 4 g + t holds A[g][t], A[g + 8][t], A[g][t + 4],
// A[g + 8][t + 4], B[t][g], B[t + 4][g] (B = W^T) and accumulators D[g][2t], D[g][2t + 1],
// D[g + 8][2t], D[g + 8][2t + 1].
//
// Order of the sums, per output (fixed whatever the batch, the tile or the row's place in it, so
// the kernel is bitwise batch invariant: the tensor core computes each row of D from that row of
// A alone):
//   kTf32    one MMA a k-step of 8, in ascending k, accumulating in the MMA's float32 D.
//   kTf32x3  a k-step is three MMAs into a D from zero: lo_a hi_b, hi_a lo_b, hi_a hi_b; the
//            k-step results of a 32-k block are added in float32 in ascending k, the block sums
//            in double in block order, rounded once to float32.
// Padded k (past in_features, read by a last k-step that in_features ends inside) are zeros in
// shared memory; k-steps wholly past in_features are skipped. The epilogue is linear()'s: + bias,
// then the exact GELU when asked, then + residual.
#include <cuda_pipeline.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/launch.cuh"
#include "kernels/layer.hpp"
#include "kernels/layer/device_math.cuh"
#include "kernels/layer/whole_k.cuh"

namespace artabpfn::kernels {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kTileRows = 16 * kWarps;
constexpr int kFragments = 4;  // m16n8 output fragments a warp
constexpr int kTileOuts = 8 * kFragments;
constexpr int kBlockK = 32;  // k staged at a time: one block of the kTf32x3 sum
constexpr int kPitch = kBlockK + 4;

// x rounded to TF32, to nearest with ties away from zero (its low 13 bits zero).
__device__ __forceinline__ float to_tf32(float x) {
  std::uint32_t bits;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(bits) : "f"(x));
  return __uint_as_float(bits);
}

// d += a b on the tensor cores: a 16 x 8 (row-major), b 8 x 8 (column-major), d 16 x 8 float32.
__device__ __forceinline__ void mma_tf32(float (&d)[4], const float (&a)[4], const float (&b)[2]) {
  asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(__float_as_uint(a[0])), "r"(__float_as_uint(a[1])), "r"(__float_as_uint(a[2])), "r"(__float_as_uint(a[3])),
        "r"(__float_as_uint(b[0])), "r"(__float_as_uint(b[1])));
}

// The accumulators of one thread and how a k-step adds into them, per arithmetic.
template <TensorCoreArithmetic kArithmetic>
struct Accumulators;

template <>
struct Accumulators<TensorCoreArithmetic::kTf32> {
  float d[kFragments][4] = {};

  __device__ __forceinline__ void add_step(const float (&a)[4], const float (&b)[kFragments][2]) {
    float ar[4], br[kFragments][2];
#pragma unroll
    for (int i = 0; i < 4; ++i) ar[i] = to_tf32(a[i]);
#pragma unroll
    for (int j = 0; j < kFragments; ++j) {
      br[j][0] = to_tf32(b[j][0]);
      br[j][1] = to_tf32(b[j][1]);
      mma_tf32(d[j], ar, br[j]);
    }
  }
  __device__ __forceinline__ void end_block() {}
  __device__ __forceinline__ float sum(int j, int i) const { return d[j][i]; }
};

template <>
struct Accumulators<TensorCoreArithmetic::kTf32x3> {
  float block[kFragments][4] = {};
  double total[kFragments][4] = {};

  __device__ __forceinline__ void add_step(const float (&a)[4], const float (&b)[kFragments][2]) {
    float a_hi[4], a_lo[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      a_hi[i] = to_tf32(a[i]);
      a_lo[i] = to_tf32(a[i] - a_hi[i]);  // a - a_hi is exact in float32
    }
#pragma unroll
    for (int j = 0; j < kFragments; ++j) {
      const float b_hi[2] = {to_tf32(b[j][0]), to_tf32(b[j][1])};
      const float b_lo[2] = {to_tf32(b[j][0] - b_hi[0]), to_tf32(b[j][1] - b_hi[1])};
      float step[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      mma_tf32(step, a_lo, b_hi);
      mma_tf32(step, a_hi, b_lo);
      mma_tf32(step, a_hi, b_hi);
#pragma unroll
      for (int i = 0; i < 4; ++i) block[j][i] += step[i];
    }
  }
  __device__ __forceinline__ void end_block() {
#pragma unroll
    for (int j = 0; j < kFragments; ++j)
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        total[j][i] += static_cast<double>(block[j][i]);
        block[j][i] = 0.0f;
      }
  }
  __device__ __forceinline__ float sum(int j, int i) const { return static_cast<float>(total[j][i]); }
};

// dst[r][k] = src[(first + r) * ld + k0 + k] for r < kRows, k < kBlockK; zeros past n_rows or
// k_count. A warp reads 32 consecutive k of one row and writes them to one shared row.
template <int kRows>
__device__ __forceinline__ void stage(float (&dst)[kRows][kPitch], const float* __restrict__ src, std::int64_t first,
                                      std::int64_t n_rows, int ld, int k0, int k_count, int tid) {
#pragma unroll
  for (int l = 0; l < kRows * kBlockK / kThreads; ++l) {
    const int idx = tid + l * kThreads;
    const int r = idx / kBlockK, k = idx % kBlockK;
    const std::int64_t row = first + r;
    dst[r][k] = (row < n_rows && k < k_count) ? src[row * ld + k0 + k] : 0.0f;
  }
}

// The k-steps [k0, k_end) of one block of the sum, from x rows xs and W rows ws staged `pitch`
// floats apart (k indexes the staged rows), into acc.
template <class Accumulators>
__device__ __forceinline__ void add_steps(Accumulators& acc, const float* xs, const float* ws, int pitch, int k0,
                                          int k_end) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int g = lane / 4, t = lane % 4;
  const float* x_row = xs + (16 * (static_cast<int>(threadIdx.x) / 32) + g) * pitch;  // this lane's first A row
  for (int kk = k0; kk < k_end; kk += 8) {
    const float a[4] = {x_row[kk + t], x_row[8 * pitch + kk + t], x_row[kk + t + 4], x_row[8 * pitch + kk + t + 4]};
    float b[kFragments][2];
#pragma unroll
    for (int j = 0; j < kFragments; ++j) {
      b[j][0] = ws[(8 * j + g) * pitch + kk + t];
      b[j][1] = ws[(8 * j + g) * pitch + kk + t + 4];
    }
    acc.add_step(a, b);
  }
}

// linear()'s epilogue on the tile's sums: + bias, the exact GELU when asked, + residual.
template <Epilogue kAct, class Accumulators>
__device__ __forceinline__ void write_tile(const Accumulators& acc, const float* __restrict__ bias,
                                           const float* residual, float* y, std::int64_t rows, int out_features) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int g = lane / 4, t = lane % 4;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const std::int64_t row0 = static_cast<std::int64_t>(blockIdx.x) * kTileRows + 16 * warp + g;  // the lane's first row
  const int out0 = static_cast<int>(blockIdx.y) * kTileOuts;
#pragma unroll
  for (int j = 0; j < kFragments; ++j)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const std::int64_t row = row0 + 8 * (i / 2);
      const int out = out0 + 8 * j + 2 * t + i % 2;
      if (row >= rows || out >= out_features) continue;
      const std::int64_t at = row * out_features + out;
      float v = acc.sum(j, i);
      if (bias != nullptr) v = v + bias[out];
      if constexpr (kAct == Epilogue::kGelu) v = detail::gelu_exact(v);
      if (residual != nullptr) v = v + residual[at];
      y[at] = v;
    }
}

template <TensorCoreArithmetic kArithmetic, Epilogue kAct>
__global__ void __launch_bounds__(kThreads)
    tensor_core_linear_blocked_kernel(const float* __restrict__ x, const float* __restrict__ weight,
                                      const float* __restrict__ bias, const float* residual, float* y,
                                      std::int64_t rows, int in_features, int out_features) {
  detail::start_after_previous_kernel();
  __shared__ float xs[kTileRows][kPitch];
  __shared__ float ws[kTileOuts][kPitch];
  const int tid = static_cast<int>(threadIdx.x);
  const std::int64_t row0 = static_cast<std::int64_t>(blockIdx.x) * kTileRows;
  const int out0 = static_cast<int>(blockIdx.y) * kTileOuts;
  Accumulators<kArithmetic> acc;
  for (int k0 = 0; k0 < in_features; k0 += kBlockK) {
    const int k_count = min(kBlockK, in_features - k0);
    stage(xs, x, row0, rows, in_features, k0, k_count, tid);
    stage(ws, weight, out0, out_features, in_features, k0, k_count, tid);
    __syncthreads();
    add_steps(acc, &xs[0][0], &ws[0][0], kPitch, 0, k_count);
    acc.end_block();
    __syncthreads();
  }
  write_tile<kAct>(acc, bias, residual, y, rows, out_features);
}

// Dynamic shared memory of the whole-k kernel: the tile's x rows, then its W rows.
constexpr std::size_t whole_k_shared_bytes(int in_features) {
  return static_cast<std::size_t>(kTileRows + kTileOuts) * static_cast<std::size_t>(in_features + 4) * sizeof(float);
}

template <TensorCoreArithmetic kArithmetic, Epilogue kAct>
__global__ void __launch_bounds__(kThreads)
    tensor_core_linear_whole_k_kernel(const float* __restrict__ x, const float* __restrict__ weight,
                                      const float* __restrict__ bias, const float* residual, float* y,
                                      std::int64_t rows, int in_features, int out_features) {
  extern __shared__ __align__(16) float staged[];  // x rows, then W rows
  const int pitch = in_features + 4;
  float* xs = staged;
  float* ws = staged + kTileRows * pitch;
  // W first: weights are no earlier kernel's output (kernels/launch.cuh).
  detail::stage_rows_async<kThreads>(ws, weight, static_cast<std::int64_t>(blockIdx.y) * kTileOuts, kTileOuts,
                                     out_features, in_features);
  detail::start_after_previous_kernel();
  detail::stage_rows_async<kThreads>(xs, x, static_cast<std::int64_t>(blockIdx.x) * kTileRows, kTileRows, rows,
                                     in_features);
  for (int r = static_cast<int>(threadIdx.x); r < kTileRows + kTileOuts; r += kThreads)
    *reinterpret_cast<float4*>(staged + r * pitch + in_features) = make_float4(0.f, 0.f, 0.f, 0.f);
  __pipeline_commit();
  __pipeline_wait_prior(0);
  __syncthreads();
  Accumulators<kArithmetic> acc;
  for (int k0 = 0; k0 < in_features; k0 += kBlockK) {
    add_steps(acc, xs, ws, pitch, k0, min(k0 + kBlockK, in_features));
    acc.end_block();
  }
  write_tile<kAct>(acc, bias, residual, y, rows, out_features);
}

template <TensorCoreArithmetic kArithmetic, Epilogue kAct>
void launch_tiles(const float* x, const float* weight, const float* bias, const float* residual, float* y,
                  std::int64_t rows, int in_features, int out_features, cudaStream_t stream) {
  const dim3 grid(detail::blocks_for(rows, kTileRows, "tensor_core_linear"),
                  static_cast<unsigned int>((out_features + kTileOuts - 1) / kTileOuts));
  detail::require(grid.y <= 65535u, "tensor_core_linear: out_features too large for one launch");
  if (detail::whole_k_fits(x, weight, in_features)) {
    const auto kernel = tensor_core_linear_whole_k_kernel<kArithmetic, kAct>;
    detail::allow_shared_memory_once(kernel, whole_k_shared_bytes(detail::kWholeMaxK));
    detail::launch(kernel, grid, kThreads, whole_k_shared_bytes(in_features), stream, x, weight, bias, residual, y,
                   rows, in_features, out_features);
  } else {
    detail::launch(tensor_core_linear_blocked_kernel<kArithmetic, kAct>, grid, kThreads, 0, stream, x, weight, bias,
                   residual, y, rows, in_features, out_features);
  }
}

template <TensorCoreArithmetic kArithmetic>
void dispatch(const float* x, const float* weight, const float* bias, const float* residual, float* y,
              std::int64_t rows, int in_features, int out_features, Epilogue act, cudaStream_t stream) {
  if (act == Epilogue::kGelu)
    launch_tiles<kArithmetic, Epilogue::kGelu>(x, weight, bias, residual, y, rows, in_features, out_features, stream);
  else
    launch_tiles<kArithmetic, Epilogue::kNone>(x, weight, bias, residual, y, rows, in_features, out_features, stream);
}

}  // namespace

void tensor_core_linear(const float* x, const float* weight, const float* bias, const float* residual, float* y,
                        std::int64_t rows, int in_features, int out_features, Epilogue act,
                        TensorCoreArithmetic arithmetic, cudaStream_t stream) {
  detail::require(rows >= 0 && in_features >= 0 && out_features >= 0, "tensor_core_linear: negative size");
  if (rows == 0 || out_features == 0) return;
  if (arithmetic == TensorCoreArithmetic::kTf32x3)
    dispatch<TensorCoreArithmetic::kTf32x3>(x, weight, bias, residual, y, rows, in_features, out_features, act, stream);
  else
    dispatch<TensorCoreArithmetic::kTf32>(x, weight, bias, residual, y, rows, in_features, out_features, act, stream);
}

}  // namespace artabpfn::kernels
