#pragma once
// Benchmark helpers (bench/engine, bench/e2e): one decode step timed, and split into stages. They
// run on a stream of their own; no job of Session uses them, and the jobs' launch code
// carries no stage marks (engine/stage.hpp).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "artabpfn/task_tensors.hpp"
#include "engine/session_options.hpp"
#include "engine/device_model.hpp"

namespace artabpfn::engine {

// One decode step's time: device-event medians over replays of the same step.
struct StepTiming {
  double eager_us = 0, graph_us = 0;
  std::size_t graph_nodes = 0;  // kernels in the step's graph
};

struct StageTime {
  std::string stage;  // embed, projections, layer_norm, kv_append, context_attention,
                      // buffer_attention, merge (split) or attention (fused), feed_forward, head, sampling
  double us = 0;      // median over replays of the stage's intervals summed over the step
};

// One decode step split into stages (profile_decode_step).
struct StepProfile {
  std::vector<StageTime> stages;  // in the order they first occur in a step
  double staged_us = 0;           // median of the first-to-last-marker time (the stages' sum)
  double eager_us = 0, graph_us = 0;  // the same step unmarked: eager launches, CUDA graph replay
  std::size_t graph_nodes = 0;
  bool queued_ahead = true;  // false: the gate timed out, so the intervals include host launch gaps
};

// Prefills `tasks`, decodes steps 0..step-1 of `samples` samples per task (one chunk; throws if it
// does not fit), then times step `step` (sampling included) `replays` times eagerly and as a CUDA
// graph replay, after 5 warm-up replays, with `options`. Needs 0 <= step < Nt_max, replays >= 1.
StepTiming time_decode_step(const DeviceModel& model, const SessionOptions& options, const TaskTensors& tasks,
                            std::int64_t samples, int step, int replays);

// As time_decode_step, and one more eager timing with a CUDA event between stage groups (always
// separate LayerNorm launches and per-layer launches). The marked step's launches are all queued
// behind a host gate before the GPU starts it, so each interval is the stages' GPU time (kernels
// back to back, no host launch gaps); eager_us - staged_us is what host launches cost. Split or
// fused attention.
StepProfile profile_decode_step(const DeviceModel& model, const SessionOptions& options, const TaskTensors& tasks,
                                std::int64_t samples, int step, int replays);

}  // namespace artabpfn::engine
