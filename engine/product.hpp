#pragma once
// One linear map y = act(x W^T + bias) in the engine's precision (SessionOptions::precision):
// kernels::linear in float32, kernels::tensor_core_linear in tf32 and tf32x3 (docs/precisions.md,
// "The engine's precisions on the GPU"). The layer runner and the conformance adapter's head
// multiply through it.
#include <cuda_runtime.h>

#include <cstdint>
#include <optional>

#include "engine/session_options.hpp"
#include "kernels/layer.hpp"

namespace artabpfn::engine {

// The tensor-core arithmetic of a tf32 precision; nullopt for float32 and mixed.
std::optional<kernels::TensorCoreArithmetic> tensor_core_arithmetic(Precision precision);

// Sizes and pointers as kernels::linear, without a residual.
void product(Precision precision, const float* x, const float* weight, const float* bias, float* y, std::int64_t rows,
             int in_features, int out_features, kernels::Epilogue act, cudaStream_t stream);

}  // namespace artabpfn::engine
