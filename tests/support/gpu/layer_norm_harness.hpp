#pragma once
// kernels::layer_norm in tests: a case (x, optional residual, weight, bias), the launch into a
// poisoned, guard-banded GuardedOutput checked after the launch, and the reference (double: the
// oracle; float: the plain float32 baseline of the tolerance rule).
#include <cstdint>
#include <vector>

#include "tests/support/gpu/host_values.hpp"

namespace artabpfn::gpu_layer_test {

struct LayerNormCase {
  std::int64_t rows = 0;
  int width = 0;
  std::vector<float> x, residual, weight, bias;  // residual empty when absent
};

std::vector<float> gpu_layer_norm(const LayerNormCase& c);

// LayerNorm(x + residual), the sum rounded to T as the model does. Instantiated for double and float.
template <class T>
Matrix<T> reference_layer_norm(const LayerNormCase& c);

}  // namespace artabpfn::gpu_layer_test
