#pragma once
// The model's weights in device memory: loaded once, immutable, shared by any number of
// inference contexts (and threads). All tensors live in one allocation.
#include <map>
#include <string>

#include "artabpfn/model_weights.hpp"
#include "kernels/device_buffer.hpp"
#include "kernels/layer.hpp"
#include "kernels/rows.hpp"

namespace artabpfn::engine {

struct LayerWeights {
  const float *feature_v, *feature_out;  // attn_features v/out projections [D, D]
  const float *q, *k, *v, *out;          // attn_rows projections [D, D]
  const float *ff_in, *ff_in_bias, *ff_out, *ff_out_bias;
  const float *norm1_weight, *norm1_bias, *norm2_weight, *norm2_bias, *norm3_weight, *norm3_bias;
  // q, k and v stacked [3D, D] (rows 0..D-1 = q, then k, then v): one linear gives [N, 3D] rows
  // q | k | v with each output's arithmetic unchanged.
  const float* qkv = nullptr;
};

class DeviceModel {
 public:
  // Validates the weights and uploads them (throws InputError or CudaError).
  explicit DeviceModel(const ModelWeights& weights);

  const ModelConfig& config() const { return config_; }
  const LayerWeights& layer(int i) const { return layers_.at(static_cast<std::size_t>(i)); }
  kernels::EmbeddingWeights embedding() const;
  kernels::MixtureBiases mixture_biases() const;
  const float* tensor(const std::string& name) const;  // device pointer of a state_dict tensor
  std::size_t bytes() const { return (storage_.size() + qkv_storage_.size()) * sizeof(float); }

 private:
  ModelConfig config_;
  kernels::DeviceBuffer<float> storage_;
  kernels::DeviceBuffer<float> qkv_storage_;  // [n_layers, 3D, D]
  std::map<std::string, const float*> tensors_;
  std::vector<LayerWeights> layers_;
};

}  // namespace artabpfn::engine
