// merge_attention_states: combines two partial attention states over disjoint key sets.
//
// What it computes, per row r of `rows` (docs/model.md, "Attention states"):
// lse = logaddexp(lse1, lse2), out = exp(lse1 - lse) o1 + exp(lse2 - lse) o2, with
// max-subtraction (m = max(lse1, lse2), w = exp(lse - m) <= 1), so LSE values of +-1e4 neither
// overflow nor give NaN.
// Shapes: out1, out2, out.out [rows, head_dim]; lse1, lse2, out.lse [rows]; natural logs.
//
// Exact cases: an empty part (lse = -inf) is the identity (the other part is copied bit for bit),
// two empty parts give (0, -inf). The combination is symmetric bit for bit: the two products are
// rounded separately (no FMA contraction) and then added, so merge(a, b) == merge(b, a).
//
// Tiling: one warp per row (lanes stride over head_dim, coalesced), a grid-stride loop over rows
// on a 1-D grid. In place is allowed (out may alias either input): every element is read and
// written by the same lane, and the row's LSEs are read by all lanes before lane 0 writes.
#include <cuda_runtime.h>

#include <climits>
#include <cmath>
#include <stdexcept>

#include "kernels/attention.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"

namespace artabpfn::kernels {
namespace {

constexpr int kMergeThreads = 256;

__global__ void __launch_bounds__(kMergeThreads)
    merge_states_kernel(const float* out1, const float* lse1, const float* out2, const float* lse2,
                        std::int64_t rows, int head_dim, float* out, float* lse) {
  detail::start_after_previous_kernel();
  const int lane = threadIdx.x % 32;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * (kMergeThreads / 32);
  for (std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * (kMergeThreads / 32) + threadIdx.x / 32; r < rows;
       r += warps) {
    const float a = lse1[r], b = lse2[r];
    __syncwarp();  // every lane has read the LSEs before lane 0 may overwrite one (in place)
    const float m = fmaxf(a, b);
    const std::int64_t base = r * head_dim;
    if (m == -INFINITY) {  // both empty
      for (int d = lane; d < head_dim; d += 32) out[base + d] = 0.f;
      if (lane == 0) lse[r] = -INFINITY;
    } else if (b == -INFINITY) {  // identity: copy part 1
      for (int d = lane; d < head_dim; d += 32) out[base + d] = out1[base + d];
      if (lane == 0) lse[r] = a;
    } else if (a == -INFINITY) {  // identity: copy part 2
      for (int d = lane; d < head_dim; d += 32) out[base + d] = out2[base + d];
      if (lane == 0) lse[r] = b;
    } else {
      const float wa = expf(a - m), wb = expf(b - m);  // one of them is exactly 1
      const float total = wa + wb;                     // in [1, 2]
      const float ca = wa / total, cb = wb / total;
      for (int d = lane; d < head_dim; d += 32)
        out[base + d] = __fadd_rn(__fmul_rn(ca, out1[base + d]), __fmul_rn(cb, out2[base + d]));
      if (lane == 0) lse[r] = m + logf(total);
    }
  }
}

}  // namespace

void merge_attention_states(const float* out1, const float* lse1, const float* out2, const float* lse2,
                            std::int64_t rows, int head_dim, const AttentionOut& out, cudaStream_t stream) {
  if (rows < 0 || head_dim < 1) throw std::invalid_argument("merge_attention_states: rows >= 0 and head_dim >= 1");
  if (rows == 0) return;
  if (!out1 || !lse1 || !out2 || !lse2 || !out.out || !out.lse)
    throw std::invalid_argument("merge_attention_states: null pointer");
  const std::int64_t blocks = (rows + kMergeThreads / 32 - 1) / (kMergeThreads / 32);
  const unsigned grid = static_cast<unsigned>(blocks < INT_MAX ? blocks : INT_MAX);
  detail::launch(merge_states_kernel, grid, kMergeThreads, 0, stream, out1, lse1, out2, lse2, rows, head_dim, out.out,
                 out.lse);
}

}  // namespace artabpfn::kernels
