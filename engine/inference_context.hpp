#pragma once
// One inference context: its own CUDA stream, caches and scratch memory, running the jobs of
// SPEC.md on a shared, immutable DeviceModel. Contexts are independent: several threads may run
// their own contexts on one model at once, with results identical to running them one by one.
//
// Every job takes the padded task layout (task_tensors.hpp): several tasks per call, each with
// its own context size and target count. Each task's context runs through the network once
// (prefill); its per-layer K/V are kept once per task, never per sample. Results are
// [T, rows, Nt_max] float tensors, NaN past a task's target count.
#include <cstdint>
#include <string>

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

struct ContextOptions {
  AttentionMode attention = AttentionMode::kFused;
  // Device memory one call may use; 0 means 90% of what is free when the call starts. Samples
  // that do not fit run in chunks that do.
  std::size_t memory_budget_bytes = 0;
  NoticeSink notices;  // empty: stderr
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

  const ContextOptions& options() const { return options_; }

 private:
  struct Impl;
  const DeviceModel& model_;
  ContextOptions options_;
  cudaStream_t stream_ = nullptr;
};

}  // namespace artabpfn::engine
