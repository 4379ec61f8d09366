#pragma once
// kernels::linear and kernels::tensor_core_linear in tests: a case (x, W, optional bias and residual, epilogue), its random
// inputs, the launch into a poisoned, guard-banded GuardedOutput checked after the launch, the
// reference (double: the oracle; float: the plain float32 baseline of the tolerance rule) and the
// rule's floor for it.
#include <cstdint>
#include <vector>

#include "kernels/layer.hpp"
#include "tests/support/gpu/host_values.hpp"

namespace artabpfn::gpu_layer_test {

using kernels::Epilogue;

struct LinearCase {
  std::int64_t rows = 0;
  int in = 0, out = 0;
  std::vector<float> x, weight, bias, residual;  // bias, residual empty when absent
  Epilogue act = Epilogue::kNone;
};

// x ~ N(m, s) with m ~ N(0, 0.5) and s 10^U(-2, 2); W ~ N(0, 1/sqrt(in)); bias, residual N(0, 1).
LinearCase random_linear(Rng& rng, std::int64_t rows, int in, int out, bool with_bias, bool with_residual,
                         Epilogue act);

// tolerance::kLinearFloor (kLinearGeluFloor with the GELU epilogue) at the largest sum of term
// magnitudes |bias| + sum_k |x w| + |residual| over the outputs.
double linear_floor(const LinearCase& c);
// That largest sum of term magnitudes.
double largest_term_sum(const LinearCase& c);

std::vector<float> gpu_linear(const LinearCase& c);
// kernels::tensor_core_linear in the given arithmetic.
std::vector<float> gpu_tensor_core_linear(const LinearCase& c, kernels::TensorCoreArithmetic arithmetic);

// Instantiated for double and float.
template <class T>
Matrix<T> reference_linear(const LinearCase& c);
// The plain TF32 baseline: x and W rounded to TF32 as the tensor cores take them (to nearest, ties
// away from zero), then reference_linear<float>.
Matrix<float> reference_linear_tf32(const LinearCase& c);
// The plain split TF32 product (conformance/plain/tf32x3.hpp), then linear's float32 epilogue.
Matrix<float> reference_linear_tf32x3(const LinearCase& c);
// The plain baseline tf32x3 is held to (docs/precisions.md, "The engine's precisions on the GPU"):
// of the plain float32 and the plain split TF32 products, the one farther from the double
// reference. The split keeps 22 of float32's 24 significand bits, so on few terms (k of 1) the
// plain tf32x3 error is the larger.
std::vector<float> tf32x3_baseline(const LinearCase& c);

}  // namespace artabpfn::gpu_layer_test
