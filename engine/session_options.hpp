#pragma once
// What a session is asked to do (SessionOptions) and the names of its choices.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "artabpfn/notices.hpp"

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
// clusters (kernels/decode.hpp), in float32 where the model has the shape it is compiled for (D 128, 4 heads,
// d_ff 256), the device can run it and each block's samples share a task; elsewhere per layer.
// kPerLayer: 6 launches a layer (kernels/layer.hpp, kernels/attention.hpp). kAuto: kClusters where
// it is faster, from 32 samples up to one wave of clusters (270 samples on an H100: 15 clusters
// of up to 18, or 240 in clusters of 16 where 18-sample clusters would mix tasks in a block;
// bench/engine/NOTES.md, "The cluster step"); a few samples over one wave (up to 18) run the
// per-layer launches on a second stream beside the wave ("Beside the clusters"); else kPerLayer.
// engine/decode_plan.hpp holds the rule.
enum class DecodeLayers { kAuto, kClusters, kPerLayer };

// float32: the engine's kernels as documented in kernels/. mixed: evaluate_joint_density with
// float32 weights, q, k, v and K/V caches but the residual stream, LayerNorm, feed-forward and
// head activations in double and every sum in double (engine/mixed_density.hpp): about 10x more
// accurate (docs/accuracy.md), slower; the attention mode does not apply. tf32 and tf32x3: every
// job but the reencode baseline, with every linear map (projections, feed-forward, head) on the
// tensor cores (kernels::tensor_core_linear in that arithmetic: tf32 about 1e-3 relative, tf32x3
// about float32's accuracy); attention, LayerNorm and the rest as in float32; the decode step per
// layer (no cluster step). docs/precisions.md, "The engine's precisions on the GPU".
enum class Precision { kFloat32, kMixed, kTf32, kTf32x3 };
Precision parse_precision(const std::string& name);  // "float32", "mixed", "tf32" or "tf32x3"
std::string precision_name(Precision precision);

struct SessionOptions {
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

}  // namespace artabpfn::engine
