// linear_chain: up to kMaxChainStages products of the same rows in one launch, each stage reading
// the output of the one before, with the LayerNorm after a product where the layer has one:
// bitwise the same as linear() and layer_norm() launched stage by stage (kernels/layer.hpp). A
// decode step's layer is two chains around its attention: feature map + LN1, q|k|v; out_proj +
// LN2, ff.0 + GELU, ff.2 + LN3 (bench/engine/NOTES.md, v8). linear_layer_norm is a chain of one.
//
// Why clusters: a stage needs whole input rows and a LayerNorm whole output rows, but one block
// owning a row tile and all outputs would leave most SMs idle at B 256. So the C <= 8 blocks of a
// row tile form a thread block cluster and split every stage's outputs (16 to 64 a block); rows
// move between them through distributed shared memory:
//   1. each block stages its slice of every stage's weights (before waiting for the previous
//      kernel: weights only), then the tile's x rows;
//   2. per stage: the whole-k chains of its outputs (kernels/layer/whole_k.cuh) from the stage's
//      input rows in its own shared memory; + bias, GELU. Without a LayerNorm each output is
//      written to global memory and into the next stage's input rows of every block of the
//      cluster. With one, the products go to shared memory; cluster barrier; a warp per row
//      gathers the row from the C blocks, adds the residual (global memory or an earlier value
//      kept on chip) and normalises it (detail::row_stats, the same operations as layer_norm),
//      then writes it to global memory and to every block's next input rows;
//   3. cluster barrier (the next stage's inputs are complete everywhere; at the end: no block
//      exits while another still reads its shared memory).
// Rows past the end are zeros in the first stage's input, finite after it, and never stored.
// Elsewhere (over 2048 rows, where the separate kernels' large tiles are faster; widths over the
// limits below; k not a multiple of 4; unaligned x or weights; too much shared memory; a device
// without clusters) each stage runs as a chain of one where that fits, else as linear() then
// layer_norm(): the same result.
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"
#include "kernels/layer.hpp"
#include "kernels/layer/device_math.cuh"
#include "kernels/layer/whole_k.cuh"

namespace artabpfn::kernels {
namespace {

namespace cg = cooperative_groups;
constexpr int kThreads = 128;        // a WholeKTile<128, R, O>: 8 R rows x 16 O outputs
constexpr int kMaxCluster = 8;       // the portable cluster size
constexpr int kMaxOutsPerThread = 4;  // 64 outputs a block: out_features <= 512
constexpr int kMaxNormWidth = 256;   // a LayerNorm row in 8 floats a lane
// Above this many rows the separate kernels are faster (H100, paper config, B 4096: 5267 us a
// decode step with fused LayerNorms against 5044 us; bench/engine/NOTES.md, v6): their 64 x 64
// tiles read each weight row for 64 rows, a chain block for 16.
constexpr std::int64_t kChainMaxRows = detail::kWholeSmallMaxRows;  // 2048

struct StageParams {
  const float* weight;
  const float* bias;
  const float* ln_weight;  // nullptr: no LayerNorm
  const float* ln_bias;
  const float* residual;  // global residual, or nullptr
  float* out;
  int in, width;          // in_features, out_features
  int outs_per_thread;    // O: the block owns 16 O outputs
  int residual_value;     // -1, or the value kept on chip that is the residual
  bool gelu;
  int weight_at;  // offset (floats) of the block's weight slice in shared memory
};

struct ChainParams {
  const float* x;
  std::int64_t rows;
  int count;
  StageParams stage[kMaxChainStages];
  int value_at[kMaxChainStages];  // offset of value v (stage v's input rows), in + 4 floats apart
  int products_at;                // a LayerNorm stage's products [tile rows][16 O]
};

// Stage s's products for this block's outputs; without a LayerNorm also its epilogue.
template <int kR, int kO>
__device__ __forceinline__ void run_products(const ChainParams& p, int s, float* smem,
                                             const cg::cluster_group& cluster, std::int64_t row0) {
  using Tile = detail::WholeKTile<kThreads, kR, kO>;
  const StageParams& st = p.stage[s];
  const int tid = static_cast<int>(threadIdx.x), rank = static_cast<int>(blockIdx.y);
  const int clusters = static_cast<int>(gridDim.y);
  const int out0 = rank * Tile::outs;
  float sums[kR][kO];
  detail::whole_k_dot<Tile>(smem + p.value_at[s], smem + st.weight_at, st.in, sums);
  float* next = s + 1 < p.count ? smem + p.value_at[s + 1] : nullptr;
#pragma unroll
  for (int i = 0; i < kR; ++i) {
    const int rr = tid / 16 + Tile::row_step * i;
    const std::int64_t row = row0 + rr;
#pragma unroll
    for (int j = 0; j < kO; ++j) {
      const int local = tid % 16 + 16 * j, out = out0 + local;
      float v = sums[i][j];
      if (st.bias != nullptr && out < st.width) v = v + st.bias[out];
      if (st.ln_weight != nullptr) {  // the LayerNorm pass reads it
        smem[p.products_at + rr * Tile::outs + local] = v;
        continue;
      }
      if (out >= st.width) continue;
      if (st.gelu) v = detail::gelu_exact(v);
      if (row < p.rows) st.out[row * st.width + out] = v;
      if (next != nullptr)
        for (int r = 0; r < clusters; ++r) cluster.map_shared_rank(next, r)[rr * (st.width + 4) + out] = v;
    }
  }
}

// Stage s's LayerNorm: a warp per row of the tile, the rows spread over the cluster's warps.
template <int kR, int kPerLane>
__device__ __forceinline__ void run_layer_norm(const ChainParams& p, int s, float* smem,
                                               const cg::cluster_group& cluster, std::int64_t row0) {
  constexpr int kTileRows = 8 * kR, kWarps = kThreads / 32;
  const StageParams& st = p.stage[s];
  const int rank = static_cast<int>(blockIdx.y), clusters = static_cast<int>(gridDim.y);
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int outs = 16 * st.outs_per_thread, width = st.width;
  float* next = s + 1 < p.count ? smem + p.value_at[s + 1] : nullptr;
  const float* kept = st.residual_value >= 0 ? smem + p.value_at[st.residual_value] : nullptr;
  for (int rr = rank + clusters * warp; rr < kTileRows; rr += clusters * kWarps) {
    const std::int64_t row = row0 + rr;
    if (row >= p.rows) {  // keep the next stage's padding rows finite
      if (next != nullptr)
        for (int j = lane; j < width; j += 32)
          for (int r = 0; r < clusters; ++r) cluster.map_shared_rank(next, r)[rr * (width + 4) + j] = 0.0f;
      continue;
    }
    float v[kPerLane];
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int j = lane + 32 * i;
      if (j < width) {
        const float* owner = cluster.map_shared_rank(smem + p.products_at, j / outs);
        const float residual = kept != nullptr ? kept[rr * (width + 4) + j] : st.residual[row * width + j];
        v[i] = residual + owner[rr * outs + j % outs];
      } else {
        v[i] = 0.0f;
      }
    }
    const detail::RowStats stats = detail::row_stats<kPerLane>(v, lane, width);
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) {
      const int j = lane + 32 * i;
      if (j >= width) continue;
      const float y = detail::layer_norm_value(v[i], stats, st.ln_weight[j], st.ln_bias[j]);
      st.out[row * width + j] = y;
      if (next != nullptr)
        for (int r = 0; r < clusters; ++r) cluster.map_shared_rank(next, r)[rr * (width + 4) + j] = y;
    }
  }
}

// (kThreads, 1): lets ptxas use the registers the 16 x 64 tiles need (166, no spills; with the
// default it capped at 128 and spilled); shared memory allows 2-3 blocks an SM anyway.
template <int kR>
__global__ void __launch_bounds__(kThreads, 1) linear_chain_kernel(const __grid_constant__ ChainParams p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  constexpr int kTileRows = 8 * kR;
  extern __shared__ __align__(16) float chain_smem[];
  const cg::cluster_group cluster = cg::this_cluster();
  const int rank = static_cast<int>(blockIdx.y);
  const std::int64_t row0 = static_cast<std::int64_t>(blockIdx.x) * kTileRows;
  for (int s = 0; s < p.count; ++s) {
    const StageParams& st = p.stage[s];
    const int outs = 16 * st.outs_per_thread;
    detail::stage_rows_async<kThreads>(chain_smem + st.weight_at, st.weight, rank * outs, outs, st.width, st.in);
  }
  detail::start_after_previous_kernel();
  detail::stage_rows_async<kThreads>(chain_smem + p.value_at[0], p.x, row0, kTileRows, p.rows, p.stage[0].in);
  __pipeline_commit();
  __pipeline_wait_prior(0);
  __syncthreads();
  for (int s = 0; s < p.count; ++s) {
    const StageParams& st = p.stage[s];
    switch (st.outs_per_thread) {
      case 1: run_products<kR, 1>(p, s, chain_smem, cluster, row0); break;
      case 2: run_products<kR, 2>(p, s, chain_smem, cluster, row0); break;
      case 3: run_products<kR, 3>(p, s, chain_smem, cluster, row0); break;
      default: run_products<kR, 4>(p, s, chain_smem, cluster, row0); break;
    }
    if (st.ln_weight != nullptr) {
      cluster.sync();  // every block's products are in place
      if (st.width <= 32) run_layer_norm<kR, 1>(p, s, chain_smem, cluster, row0);
      else if (st.width <= 64) run_layer_norm<kR, 2>(p, s, chain_smem, cluster, row0);
      else if (st.width <= 128) run_layer_norm<kR, 4>(p, s, chain_smem, cluster, row0);
      else run_layer_norm<kR, 8>(p, s, chain_smem, cluster, row0);
    }
    cluster.sync();
  }
#endif
}

bool device_has_clusters() {
  int device = 0, value = 0;
  if (cudaGetDevice(&device) != cudaSuccess) return false;
  if (cudaDeviceGetAttribute(&value, cudaDevAttrClusterLaunch, device) != cudaSuccess) return false;
  return value != 0;
}

int max_shared_bytes() {
  int device = 0, value = 0;
  ARTABPFN_CUDA_CHECK(cudaGetDevice(&device));
  ARTABPFN_CUDA_CHECK(cudaDeviceGetAttribute(&value, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  return value;
}

// The width of value v: the chain's input (v = 0) or stage v - 1's output.
int value_width(int in_features, const ChainStage* stages, int v) {
  return v == 0 ? in_features : stages[v - 1].out_features;
}

const float* value_pointer(const float* x, const ChainStage* stages, int v) { return v == 0 ? x : stages[v - 1].out; }

void validate(const float* x, int in_features, const ChainStage* stages, int count) {
  const auto fail = [](int s, const std::string& what) {
    throw std::invalid_argument("linear_chain: stage " + std::to_string(s) + ": " + what);
  };
  for (int s = 0; s < count; ++s) {
    const ChainStage& st = stages[s];
    if (st.out_features < 1) fail(s, "out_features must be >= 1");
    if (st.out == nullptr) fail(s, "null output");
    const bool norm = st.ln_weight != nullptr || st.ln_bias != nullptr;
    const bool residual = st.residual != nullptr || st.residual_value >= 0;
    if (norm && (st.ln_weight == nullptr || st.ln_bias == nullptr)) fail(s, "LayerNorm needs weight and bias");
    if (norm && st.act != Epilogue::kNone) fail(s, "no activation before a LayerNorm");
    if (norm != residual) fail(s, "a residual is for a LayerNorm stage, which needs one");
    if (st.residual != nullptr && st.residual_value >= 0) fail(s, "two residuals");
    if (st.residual_value > s) fail(s, "the residual value must be the input or an earlier value");
    if (st.residual_value >= 0 && value_width(in_features, stages, st.residual_value) != st.out_features)
      fail(s, "the residual value's width differs from out_features");
    if (st.out == x) fail(s, "output aliases the chain's input");
    if (st.residual == st.out) fail(s, "output aliases the residual");
    for (int t = 0; t < s; ++t)
      if (stages[t].out == st.out) fail(s, "output aliases an earlier stage's output");
  }
}

// The launch of the fused chain, or false where it does not apply.
bool launch_fused(const float* x, int in_features, const ChainStage* stages, int count, std::int64_t rows,
                  cudaStream_t stream) {
  if (rows > kChainMaxRows || !device_has_clusters()) return false;
  int widest = 0;
  for (int s = 0; s < count; ++s) widest = std::max(widest, stages[s].out_features);
  const int clusters = std::min(kMaxCluster, (widest + 15) / 16);
  const int tile_rows = rows <= detail::kWholeTinyMaxRows ? 8 : 16;
  ChainParams p{};
  p.x = x;
  p.rows = rows;
  p.count = count;
  int floats = 0, products = 0;
  for (int s = 0; s < count; ++s) {
    const ChainStage& st = stages[s];
    const int in = value_width(in_features, stages, s);
    if (in == 0 || !detail::whole_k_fits(s == 0 ? x : stages[s - 1].out, st.weight, in)) return false;
    const int per_thread = (st.out_features + 16 * clusters - 1) / (16 * clusters);
    if (per_thread > kMaxOutsPerThread) return false;
    if (st.ln_weight != nullptr && st.out_features > kMaxNormWidth) return false;
    StageParams& q = p.stage[s];
    q = {st.weight, st.bias, st.ln_weight, st.ln_bias, st.residual, st.out, in, st.out_features, per_thread,
         st.residual_value, st.act == Epilogue::kGelu, floats};
    floats += 16 * per_thread * (in + 4);
    if (st.ln_weight != nullptr) products = std::max(products, tile_rows * 16 * per_thread);
  }
  for (int v = 0; v < count; ++v) {
    p.value_at[v] = floats;
    floats += tile_rows * (p.stage[v].in + 4);
  }
  p.products_at = floats;
  const std::size_t bytes = static_cast<std::size_t>(floats + products) * sizeof(float);
  if (bytes > static_cast<std::size_t>(max_shared_bytes())) return false;
  const dim3 grid(detail::blocks_for(rows, tile_rows, "linear_chain"), static_cast<unsigned int>(clusters));
  const auto kernel = tile_rows == 8 ? linear_chain_kernel<1> : linear_chain_kernel<2>;
  detail::allow_shared_memory_once(kernel, static_cast<std::size_t>(max_shared_bytes()));
  detail::launch_in_clusters(kernel, grid, kThreads, dim3(1, static_cast<unsigned int>(clusters), 1), bytes, stream,
                             p);
  return true;
}

}  // namespace

void linear_chain(const float* x, int in_features, const ChainStage* stages, int count, std::int64_t rows,
                  cudaStream_t stream) {
  detail::require(count >= 1 && count <= kMaxChainStages, "linear_chain: 1 to 3 stages");
  detail::require(rows >= 0 && in_features >= 0, "linear_chain: negative size");
  if (rows == 0) return;
  validate(x, in_features, stages, count);
  if (launch_fused(x, in_features, stages, count, rows, stream)) return;
  for (int s = 0; s < count; ++s) {  // stage by stage: a chain of one each where it fits
    ChainStage st = stages[s];
    const float* in = value_pointer(x, stages, s);
    if (st.residual_value >= 0) st.residual = value_pointer(x, stages, st.residual_value);
    st.residual_value = -1;
    const int width_in = value_width(in_features, stages, s);
    if (count > 1 && launch_fused(in, width_in, &st, 1, rows, stream)) continue;
    linear(in, st.weight, st.bias, nullptr, st.out, rows, width_in, st.out_features, st.act, stream);
    if (st.ln_weight != nullptr)
      layer_norm(st.residual, st.out, st.ln_weight, st.ln_bias, st.out, rows, st.out_features, stream);
  }
}

void linear_layer_norm(const float* x, const float* weight, const float* bias, const float* residual,
                       const float* ln_weight, const float* ln_bias, float* y, std::int64_t rows, int in_features,
                       int width, cudaStream_t stream) {
  detail::require(rows >= 0, "linear_layer_norm: negative rows");
  if (rows == 0) return;
  detail::require(residual != nullptr && ln_weight != nullptr && ln_bias != nullptr,
                  "linear_layer_norm: needs a residual and LayerNorm weights");
  detail::require(y != x && y != residual, "linear_layer_norm: y must be distinct from x and the residual");
  const ChainStage stage{weight, bias, width, Epilogue::kNone, ln_weight, ln_bias, residual, -1, y};
  linear_chain(x, in_features, &stage, 1, rows, stream);
}

}  // namespace artabpfn::kernels
