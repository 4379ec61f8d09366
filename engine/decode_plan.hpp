#pragma once
// How a decode step of a batch runs its layers (SessionOptions::decode_layers): which samples the
// cluster step (kernels/decode.hpp: every layer in one launch) decodes, and which the per-layer
// launches. Both give bitwise the same results; the rule only picks the faster.
#include <cstdint>
#include <functional>
#include <vector>

#include "artabpfn/model_config.hpp"
#include "engine/session_options.hpp"
#include "kernels/decode.hpp"

namespace artabpfn::engine {

// Samples [0, clustered) on the cluster step, the other `layered` on the per-layer launches (both
// non-zero: the per-layer launches on a second stream at the same time).
struct DecodePlan {
  std::int64_t clustered = 0, layered = 0;
};

// Samples over one wave of clusters that kAuto still gives the cluster step: those past the wave
// run the per-layer launches on a second stream at the same time, on the SMs the clusters leave
// idle (bench/engine/NOTES.md, "Beside the clusters"): up to one cluster's worth.
constexpr std::int64_t kSamplesBesideClusters = kernels::kClusterDecodeMaxSamples;
// Fewest samples kAuto gives the cluster step (H100: at B 1 the per-layer step took 373 us, the
// cluster step 397; at B 32 427 against 408).
constexpr std::int64_t kFewestClusteredSamples = 32;

// Whether the options and the model's shape let the cluster step serve at all: not with
// kPerLayer, not with split attention (or the reencode baseline), only for the shape it is
// compiled for (kernels::cluster_decode_fits).
bool cluster_step_serves(const SessionOptions& options, const ModelConfig& config);

// How many of `samples` samples, from the first, the cluster step decodes, where it serves, on a
// device that holds `resident_clusters` clusters at once; first_fit(n): whether the blocks of the
// first n samples each hold one task's samples (kernels::cluster_decode_tasks_fit). kClusters: all
// of them or none. kAuto: none below kFewestClusteredSamples; at most one wave, of 18-sample
// clusters or, where their blocks would mix tasks, of 16-sample ones (e.g. tasks of 128 samples:
// 240 in the wave and 16 beside it at B 256), and only where at most kSamplesBesideClusters are
// left (bench/engine/NOTES.md, "The cluster step"). kPerLayer: none.
std::int64_t clustered_samples(DecodeLayers how, std::int64_t samples, std::int64_t resident_clusters,
                               const std::function<bool(std::int64_t)>& first_fit);

// The same for the samples of a batch (task_of_sample: each one's task) with these options and
// model, on the current device: none where the cluster step does not serve or the device cannot
// run it.
std::int64_t clustered_samples(const SessionOptions& options, const ModelConfig& config,
                               const std::vector<std::int32_t>& task_of_sample);

}  // namespace artabpfn::engine
