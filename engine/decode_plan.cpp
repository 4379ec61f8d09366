#include "engine/decode_plan.hpp"

#include <algorithm>

namespace artabpfn::engine {

bool cluster_step_serves(const SessionOptions& options, const ModelConfig& c) {
  return options.decode_layers != DecodeLayers::kPerLayer && options.attention == AttentionMode::kFused &&
         options.precision == Precision::kFloat32 &&
         kernels::cluster_decode_fits(c.d_model, c.n_heads, c.d_ff, c.n_layers);
}

std::int64_t clustered_samples(DecodeLayers how, std::int64_t samples, std::int64_t resident_clusters,
                               const std::function<bool(std::int64_t)>& first_fit) {
  if (how == DecodeLayers::kPerLayer) return 0;
  if (how == DecodeLayers::kClusters) return first_fit(samples) ? samples : 0;
  if (samples < kFewestClusteredSamples) return 0;
  for (const std::int64_t wave : {kernels::kClusterDecodeMaxSamples * resident_clusters,
                                  kernels::kClusterDecodeHalvesOf8 * resident_clusters}) {
    const std::int64_t n = std::min(samples, wave);
    if (samples - n <= kSamplesBesideClusters && first_fit(n)) return n;
  }
  return 0;
}

std::int64_t clustered_samples(const SessionOptions& options, const ModelConfig& config,
                               const std::vector<std::int32_t>& task_of_sample) {
  if (!cluster_step_serves(options, config) || !kernels::cluster_decode_available()) return 0;
  const auto first_fit = [&](std::int64_t n) {
    return kernels::cluster_decode_tasks_fit({task_of_sample.begin(), task_of_sample.begin() + n});
  };
  return clustered_samples(options.decode_layers, std::int64_t(task_of_sample.size()),
                           kernels::cluster_decode_resident_clusters(), first_fit);
}

}  // namespace artabpfn::engine
