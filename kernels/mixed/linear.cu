// mixed::linear (kernels/mixed.hpp): the shared-memory tiled product of kernels/layer/
// tiled_product.cuh with double arithmetic; k is staged 16 at a time (x in its own type, W as
// float32). Two tile shapes, 64 x 64 (16 x 16 threads, 4 x 4 each) and, where those give fewer
// than 264 blocks, 16 x 32 (8 x 16 threads, 2 x 2). Both run the same per-output sum: acc = fma(double(x[r, k]), double(W[o, k]), acc) from 0 in
// ascending k (a float32 weight times a double has a 77-bit product: the fma rounds once a term),
// so the tile shape and the batch never change a bit.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"
#include "kernels/layer/device_math.cuh"
#include "kernels/layer/tiled_product.cuh"
#include "kernels/mixed.hpp"

namespace artabpfn::kernels::mixed {
namespace {

// The tiled product's Sum policy (kernels/layer/tiled_product.cuh): one double fma a term, k
// staged 16 at a time; the epilogue in double, rounded once to TOut.
template <class TIn, class TOut>
struct DoubleTerms {
  using In = TIn;
  using Out = TOut;
  using Residual = double;
  static constexpr int kTileK = 16;

  template <int kTy, int kTx, int kPr, int kPo, int kRows, int kOuts>
  __device__ __forceinline__ static void add_tile(const TIn (&xs)[kTileK][kRows], const float (&ws)[kTileK][kOuts],
                                                  int k_count, int ty, int tx, double (&acc)[kPr][kPo]) {
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
  }

  template <Epilogue kAct>
  __device__ __forceinline__ static TOut finish(double v, const float* bias, int out, const double* residual,
                                                std::int64_t at) {
    if (bias != nullptr) v += static_cast<double>(bias[out]);
    if constexpr (kAct == Epilogue::kGelu) v = detail::gelu_exact(v);
    if (residual != nullptr) v += residual[at];
    return static_cast<TOut>(v);
  }
};

template <class TIn, class TOut, Epilogue kAct>
void dispatch(const TIn* x, const float* weight, const float* bias, const double* residual, TOut* y,
              std::int64_t rows, int in_features, int out_features, cudaStream_t stream) {
  using Sum = DoubleTerms<TIn, TOut>;
  if (((rows + 63) / 64) * ((out_features + 63) / 64) >= 264)  // two blocks an SM of an H100
    detail::launch_tiled_product<Sum, kAct, 16, 16, 4, 4>(x, weight, bias, residual, y, rows, in_features, out_features,
                                                          stream, "mixed::linear");
  else
    detail::launch_tiled_product<Sum, kAct, 8, 16, 2, 2>(x, weight, bias, residual, y, rows, in_features, out_features,
                                                         stream, "mixed::linear");
}

}  // namespace

template <class TIn, class TOut>
void linear(const TIn* x, const float* weight, const float* bias, const double* residual, TOut* y, std::int64_t rows,
            int in_features, int out_features, Epilogue act, cudaStream_t stream) {
  detail::require(rows >= 0 && in_features >= 0 && out_features >= 0, "mixed::linear: negative size");
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

}  // namespace artabpfn::kernels::mixed
