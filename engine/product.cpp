#include "engine/product.hpp"

namespace artabpfn::engine {

std::optional<kernels::TensorCoreArithmetic> tensor_core_arithmetic(Precision precision) {
  if (precision == Precision::kTf32) return kernels::TensorCoreArithmetic::kTf32;
  if (precision == Precision::kTf32x3) return kernels::TensorCoreArithmetic::kTf32x3;
  return std::nullopt;
}

void product(Precision precision, const float* x, const float* weight, const float* bias, float* y, std::int64_t rows,
             int in_features, int out_features, kernels::Epilogue act, cudaStream_t stream) {
  if (const auto tensor_cores = tensor_core_arithmetic(precision))
    kernels::tensor_core_linear(x, weight, bias, nullptr, y, rows, in_features, out_features, act, *tensor_cores, stream);
  else
    kernels::linear(x, weight, bias, nullptr, y, rows, in_features, out_features, act, stream);
}

}  // namespace artabpfn::engine
