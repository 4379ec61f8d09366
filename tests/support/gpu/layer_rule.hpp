#pragma once
// The tolerance rule (tolerance/rule.hpp) as the layer kernels' tests apply it where the kernel has
// no floor of its own: the layer floor, tolerance::kLayerFloor of the reference.
#include <string>
#include <vector>

#include "tolerance/constants.hpp"

namespace artabpfn::gpu_layer_test {

inline tolerance::Check check_rule(const std::string& what, const std::vector<double>& reference,
                                   const std::vector<float>& gpu, const std::vector<float>& float32, double factor) {
  return tolerance::check(what, reference, gpu, float32, factor, tolerance::kLayerFloor.of(reference));
}

}  // namespace artabpfn::gpu_layer_test
