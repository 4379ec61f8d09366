#pragma once
// A decode step's layers in one launch (kernels/decode/cluster_layers.cu): every layer of the
// model for the 2 rows a sample (buffer t-1, target t) of a decode step, computed by thread block
// clusters that keep the rows on chip between the stages of a layer and between layers, bitwise
// the same as the layered step (the engine's per-layer launches with fused attention).
//
// Compiled for one shape, the paper configuration's: D 128, 4 heads of 32, d_ff 256, up to
// kClusterDecodeMaxLayers layers (cluster_decode_fits). A cluster of 8 blocks owns up to 18
// samples; each block of it owns a 1/8 column slice of every product's weights and, for the
// attention, one head of half of the samples (8 of 16, 9 of 18), whose context must be one task's
// (cluster_decode_tasks_fit). Elsewhere the engine runs the layered step: the same results.
#include <cuda_runtime.h>

#include <cstdint>
#include <span>

namespace artabpfn::kernels {

constexpr int kClusterDecodeMaxLayers = 32;
constexpr int kClusterDecodeMaxSamples = 18;  // samples a cluster owns at most
// Samples a cluster owns at most with attention halves of 8 samples (the other tile has 9): a
// batch of tasks of 8 k samples each fits its blocks where the 18-sample tile's may not.
constexpr int kClusterDecodeHalvesOf8 = 16;

// One layer's weights (engine::LayerWeights: the folded feature map, q|k|v stacked [3D, D]) and
// its K/V: the prefill's context cache ([H, Nc_t, Dh] blocks at context_offset[task]) and the
// samples' buffer caches [B, H, capacity, Dh].
struct ClusterDecodeLayer {
  const float *feature, *qkv, *out, *ff_in, *ff_in_bias, *ff_out, *ff_out_bias;
  const float *norm1_weight, *norm1_bias, *norm2_weight, *norm2_bias, *norm3_weight, *norm3_bias;
  const float *context_k, *context_v;
  float *buffer_k, *buffer_v;
};

struct ClusterDecodeArgs {
  ClusterDecodeLayer layers[kClusterDecodeMaxLayers];
  int n_layers = 0;
  float* x = nullptr;  // [2B, D]: the step's embedded rows in, the last layer's rows out
  std::int64_t batch = 0;
  const std::int64_t* context_offset = nullptr;  // per task
  const std::int32_t* context_len = nullptr;     // per task
  const std::int32_t* task_of_sample = nullptr;  // per sample
  int capacity = 0;                              // buffer rows a sample's cache holds
  const int* step = nullptr;                     // t, in device memory (buffer rows 0..t-1 visible)
  // The model's shape, as the caller's model has it: the kernel serves only the one it is compiled
  // for (cluster_decode_fits), and the caches' layout [B, H, capacity, D / H] depends on it.
  int d_model = 0, n_heads = 0, d_ff = 0;
};

// The model shape the kernel is compiled for.
bool cluster_decode_fits(int d_model, int n_heads, int d_ff, int n_layers);
// Whether the current device can run it (clusters, its shared memory, a cluster resident).
bool cluster_decode_available();
// Clusters the current device holds at once (cudaOccupancyMaxActiveClusters; 0: none).
int cluster_decode_resident_clusters();
// Samples per cluster at this batch: the launch has ceil(batch / that) clusters.
int cluster_decode_samples_per_cluster(std::int64_t batch);
// Whether the attention rows of every block share one task's context (task_of_sample: host copy).
bool cluster_decode_tasks_fit(std::span<const std::int32_t> task_of_sample);
// Whether every matrix, cache and the rows are 16-byte aligned (the kernel's 16-byte copies).
bool cluster_decode_aligned(const ClusterDecodeArgs& args);
// Runs layers 0..n_layers-1 on args.x in place (PDL launch; reads no global memory the previous
// kernel writes before waiting for it, except as kernels/launch.cuh allows: the weights and the
// context caches, complete before the step). task_of_sample_host: the host copy of
// args.task_of_sample's args.batch entries. Before launching anything it throws
// std::invalid_argument (its message starts "cluster_decode_layers:") on a model shape or layer
// count it does not serve (cluster_decode_fits), a bad batch, capacity or null pointer, memory
// that is not 16-byte aligned (cluster_decode_aligned), a host copy of another length, and a
// batch whose blocks' samples mix tasks (cluster_decode_tasks_fit).
void cluster_decode_layers(const ClusterDecodeArgs& args, std::span<const std::int32_t> task_of_sample_host,
                           cudaStream_t stream);

}  // namespace artabpfn::kernels
