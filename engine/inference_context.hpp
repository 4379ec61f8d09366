#pragma once
// One inference context: its own CUDA stream, caches and scratch memory, running the jobs of
// docs/model.md ("The jobs") on a shared, immutable DeviceModel. Contexts are independent:
// several threads may run their own contexts on one model at once, with results identical to
// running them one by one.
//
// Every job takes the padded task layout (task_tensors.hpp): several tasks per call, each with
// its own context size and target count. Each task's context runs through the network once
// (prefill); its per-layer K/V are kept once per task, never per sample. Results are
// [T, rows, Nt_max] float tensors, NaN past a task's target count.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "artabpfn/host_tensor.hpp"
#include "artabpfn/notices.hpp"
#include "artabpfn/task_tensors.hpp"
#include "engine/device_model.hpp"

namespace artabpfn::engine {

// split: context kernel + buffer kernel + merge of the partial states; fused: one kernel with
// one online softmax over context and buffer; reencode: the baseline without caches (every step
// re-encodes each sequence's own context copy and earlier targets; passes use fused attention),
// for benchmarks and as an independent correctness path.
enum class AttentionMode { kSplit, kFused, kReencode };
AttentionMode parse_attention_mode(const std::string& name);  // "split", "fused" or "reencode"
std::string attention_mode_name(AttentionMode mode);

// How a decode step runs its layers with fused attention (sample_sequence, forced_ar_density);
// every choice gives bitwise the same results. kClusters: all layers in one launch of thread block
// clusters (kernels/decode.hpp), where the model has the shape it is compiled for (D 128, 4 heads,
// d_ff 256), the device can run it and each block's samples share a task; elsewhere per layer.
// kPerLayer: 6 launches a layer (kernels/layer.hpp, kernels/attention.hpp). kAuto: kClusters where
// it is faster, from 32 samples up to one wave of clusters (270 samples on an H100: 15 clusters
// of up to 18, or 240 in clusters of 16 where 18-sample clusters would mix tasks in a block;
// bench/engine/NOTES.md, "The cluster step"); a few samples over one wave (up to 18) run the
// per-layer launches on a second stream beside the wave ("Beside the clusters"); else kPerLayer.
enum class DecodeLayers { kAuto, kClusters, kPerLayer };

// float32: the engine's kernels as documented in kernels/. mixed: evaluate_joint_density with
// float32 weights, q, k, v and K/V caches but the residual stream, LayerNorm, feed-forward and
// head activations in double and every sum in double (engine/mixed_density.hpp): about 10x more
// accurate (docs/accuracy.md, "Mixed precision"), slower; the attention mode does not apply.
// The decode jobs (sample_sequence, forced_ar_density) are float32 only.
enum class Precision { kFloat32, kMixed };
Precision parse_precision(const std::string& name);  // "float32" or "mixed"
std::string precision_name(Precision precision);

struct ContextOptions {
  AttentionMode attention = AttentionMode::kFused;
  // Device memory one call may use; 0 means 90% of what is free when the call starts. Samples
  // that do not fit run in chunks that do.
  std::size_t memory_budget_bytes = 0;
  NoticeSink notices;  // empty: stderr
  // sample_sequence and forced_ar_density replay each decode step as one CUDA graph (captured once
  // per call and chunk; the step index lives in device memory). false: the same kernels launched
  // one by one (eager), for comparison; results are bitwise the same.
  bool decode_graphs = true;
  // true: each LayerNorm of a layer runs in the launch of the product before it where the kernel
  // can (kernels::linear_layer_norm: few rows, as in a decode step), and a decode step's K/V
  // append in the q|k|v product's launch (kernels::linear_append_kv): 79 instead of 127 launches
  // a decode step on the paper config; false: separate LayerNorm and append launches. Results are
  // bitwise the same (engine properties and bench/engine/decode_step_bench check it).
  bool fuse_epilogues = true;
  // Progress of long calls: called on the calling thread with the AR steps done so far (over all
  // chunks of the call) and their total, at most about four times a second (each call waits for
  // the GPU first, so the count is what has run) and once at the end. Empty: never called, no waits.
  std::function<void(std::int64_t done, std::int64_t total)> progress = nullptr;
  Precision precision = Precision::kFloat32;
  DecodeLayers decode_layers = DecodeLayers::kAuto;
};

// How a decode step of a batch runs its layers (InferenceContext::decode_plan): samples
// [0, clustered) on the cluster step, the other `layered` on the per-layer launches (both non-zero:
// the per-layer launches on a second stream at the same time).
struct DecodePlan {
  std::int64_t clustered = 0, layered = 0;
};

// One decode step's time (bench/engine): device-event medians over replays of the same step.
struct StepTiming {
  double eager_us = 0, graph_us = 0;
  std::size_t graph_nodes = 0;  // kernels in the step's graph
};

// One decode step split into stages (bench/e2e; see InferenceContext::profile_decode_step).
struct StageTime {
  std::string stage;  // embed, projections, layer_norm, kv_append, context_attention,
                      // buffer_attention, merge (split) or attention (fused), feed_forward, head, sampling
  double us = 0;      // median over replays of the stage's intervals summed over the step
};
struct StepProfile {
  std::vector<StageTime> stages;  // in the order they first occur in a step
  double staged_us = 0;           // median of the first-to-last-marker time (the stages' sum)
  double eager_us = 0, graph_us = 0;  // the same step unmarked: eager launches, CUDA graph replay
  std::size_t graph_nodes = 0;
  bool queued_ahead = true;  // false: the gate timed out, so the intervals include host launch gaps
};

class InferenceContext {
 public:
  explicit InferenceContext(const DeviceModel& model, ContextOptions options = {});
  ~InferenceContext();
  InferenceContext(const InferenceContext&) = delete;
  InferenceContext& operator=(const InferenceContext&) = delete;

  // Teacher forcing, one pass per call: log p(y_t | context, y_<t) for every value set.
  // Needs tasks.y_target. Returns [T, R, Nt_max].
  HostTensor<float> evaluate_joint_density(const TaskTensors& tasks);
  // The same densities along the AR decode path (buffer K/V appended step by step) for the given
  // values: equal to teacher forcing up to float32 rounding. Returns [T, R, Nt_max].
  HostTensor<float> forced_ar_density(const TaskTensors& tasks);
  // `samples` joint samples per task, drawn with the random-stream contract (task id = the
  // task's position in the call). Bitwise reproducible across runs, chunkings and contexts.
  // Returns [T, samples, Nt_max].
  HostTensor<float> sample_sequence(const TaskTensors& tasks, std::int64_t samples, std::uint64_t seed);

  // Benchmark helper: prefills `tasks`, decodes steps 0..step-1 of `samples` samples per task
  // (one chunk; throws if it does not fit), then times step `step` (sampling included) `replays`
  // times eagerly and as a CUDA graph replay, after warm-up. Needs step < Nt_max.
  StepTiming time_decode_step(const TaskTensors& tasks, std::int64_t samples, int step, int replays);
  // Benchmark helper: as time_decode_step, and one more eager timing with a CUDA event between
  // stage groups (always separate LayerNorm launches). The marked step's launches are all queued
  // behind a host gate before the GPU starts it, so each interval is the stages' GPU time
  // (kernels back to back, no host launch gaps); eager_us - staged_us is what host launches cost.
  StepProfile profile_decode_step(const TaskTensors& tasks, std::int64_t samples, int step, int replays);

  // How a decode step of `per_task` sequences per task of `tasks`, all in one chunk, runs its layers
  // with this context's options and device.
  DecodePlan decode_plan(const TaskTensors& tasks, std::int64_t per_task) const;

  const ContextOptions& options() const { return options_; }

 private:
  struct Impl;
  const DeviceModel& model_;
  ContextOptions options_;
  cudaStream_t stream_ = nullptr;
};

}  // namespace artabpfn::engine
