#pragma once
// The resident decode step: one kernel launch runs a whole AR decode step (SPEC.md, "Decoding")
// for every sample: embedding of buffer row t-1 and target row t, every layer with fused
// attention over context and buffer, the buffer K/V append, the final LayerNorm, the head and the
// mixture sample (or the log density of a given value).
//
// Why it exists: a decode step of the paper model as separate kernels is ~140 dependent launches
// of a few microseconds each (bench/engine/NOTES.md); their fixed costs, not the arithmetic, were
// the step. In a decode step a sample's two rows depend only on themselves, the task's cached
// context K/V and the sample's own buffer K/V, so a thread block that owns a group of samples can
// run the whole step with block barriers only: no grid-wide synchronisation, one launch.
//
// Bitwise contract: every value is computed with the same float32 operations in the same order as
// the layered step (engine/inference_context.cpp with fused attention: linear.cu's per-output FMA
// chain, layer_norm.cu's row statistics, row_tile_attention.cu's per-key online softmax over keys
// j = w (mod 4) per partial state w and its merge in order w = 0..3, mixture.cu's row formulas),
// so the resident step gives bitwise the same samples and densities, for any group size and batch.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "kernels/layer.hpp"
#include "kernels/rows.hpp"

namespace artabpfn::kernels {

// The step's weight matrices reach shared memory as tiles: matrix W [out, in] transposed, its
// output columns cut into tiles of `decode_tile_width(in, out)` columns, each stored as a
// contiguous [in, width] block (columns past `out` are zeros), kDecodeTileFloats at most. A
// step consumes the tiles in a fixed order (DecodeModel::tiles): per layer Wv_f, Wo_f, Wq|Wk|Wv,
// Wo, ff.0, ff.2, then head.head.0 and head.head.2.
constexpr int kDecodeTileFloats = 16384;  // 64 KB; two are in shared memory (double buffering)
constexpr int kResidentMaxWidth = 256;    // d_model and d_ff of a model the resident step holds
__host__ __device__ inline int decode_tile_width(int in_features, int out_features) {
  const int fit = kDecodeTileFloats / in_features / 4 * 4, all = (out_features + 3) / 4 * 4;
  return fit < all ? fit : all;
}

// One layer's vectors (biases, LayerNorm affine parameters).
struct DecodeLayer {
  const float *ff_in_bias, *ff_out_bias;
  const float *norm1_weight, *norm1_bias, *norm2_weight, *norm2_bias, *norm3_weight, *norm3_bias;
};

// One weight tile: where it is and its size (in * width floats, a multiple of 16 bytes).
struct DecodeTile {
  const float* source;
  unsigned bytes;
};

struct DecodeModel {
  const DecodeLayer* layers;  // device array [n_layers]
  const DecodeTile* tiles;    // device array [tile_count]: the weight tiles in consumption order
  int tile_count;
  int n_layers, d_model, n_heads, d_ff;
  EmbeddingWeights embedding;
  const float *final_norm_weight, *final_norm_bias;
  const float *head_in_bias, *head_out_bias;  // head.head.0 and head.head.2 biases
  MixtureBiases mixture;
};

// The state of B samples at decode step t (t read from device memory, so one CUDA graph node
// serves every step).
struct DecodeJob {
  std::int64_t batch;
  const int* step;  // t
  // Inputs: target features of sample b's task at rows x_base[b] + j of x [*, features].
  const float* x;
  const std::int32_t* x_base;
  int features;
  // Context K/V of layer l: context_k[l] (device array of per-layer pointers), task blocks as in
  // kernels/attention.hpp (ContextKV), sample b reads task task_of_sample[b].
  const float* const* context_k;
  const float* const* context_v;
  const std::int64_t* context_offset;
  const std::int32_t* context_len;
  const std::int32_t* task_of_sample;
  // Buffer K/V of layer l: [B, H, capacity, Dh] at buffer_k[l] (device array of pointers).
  float* const* buffer_k;
  float* const* buffer_v;
  int capacity;
  // values [steps, B] step-major: sampling writes y_t of sample b at t * B + b; density reads it
  // there and writes log p to log_density at the same place. Buffer row t-1 reads y_{t-1}.
  float* values;
  float* log_density;  // nullptr: sample
  std::uint64_t seed;
  const std::uint32_t* task_id;       // random-stream counters per sample
  const std::uint32_t* sample_index;
  // When set: block 0 adds the SM clock cycles of each stage (ResidentStage) of the step here.
  unsigned long long* stage_cycles = nullptr;
};

// The stages of a resident step as its stage clock counts them (DecodeJob::stage_cycles).
enum ResidentStage : int {
  kStageEmbed,
  kStageProducts,     // waiting for weight tiles and multiplying
  kStageLayerNorm,
  kStageAppend,       // buffer K/V of row t-1
  kStageKeySources,   // per-phase key tables
  kStageScores,       // q.k
  kStageScan,         // the reference points m
  kStageProbabilities,
  kStageAccumulate,   // l and o along the keys
  kStageMerge,        // the four partial states
  kStageMixture,      // sample or log density
  kResidentStages
};
const char* resident_stage_name(int stage);

// Launch shape: `group` samples per thread block (0: the model does not fit the kernel: use the
// layered step), its dynamic shared memory, and the keys scored per pass of attention.
struct ResidentPlan {
  int group = 0;
  int key_chunk = 0;
  std::size_t shared_bytes = 0;
  const char* unsupported = nullptr;  // why group == 0
};

// Plans a launch for `batch` samples on the current device: `group` > 0 forces a group size, 0
// chooses one (about one block per SM). Needs d_model and d_ff <= kResidentMaxWidth and the
// plan's shared memory to fit.
ResidentPlan plan_resident_decode(int d_model, int n_heads, int d_ff, int components, std::int64_t batch, int group);

void resident_decode_step(const DecodeModel& model, const DecodeJob& job, const ResidentPlan& plan,
                          cudaStream_t stream);

}  // namespace artabpfn::kernels
