#pragma once
// kernels::gelu in tests: the launch into a poisoned, guard-banded GuardedOutput checked after the
// launch, and the tolerance rule's floor for it.
#include <vector>

namespace artabpfn::gpu_layer_test {

std::vector<float> gpu_gelu(const std::vector<float>& x);

// The larger of tolerance::kLayerFloor of the reference and tolerance::kGeluReferenceFloor of
// max |x| (the double reference's own error).
double gelu_floor(const std::vector<float>& x, const std::vector<double>& reference);

}  // namespace artabpfn::gpu_layer_test
