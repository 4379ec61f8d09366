#pragma once
// The model's weights in device memory: loaded once, immutable, shared by any number of
// sessions (and threads). All tensors live in one allocation.
#include <map>
#include <string>

#include "artabpfn/model_weights.hpp"
#include "kernels/device_buffer.hpp"
#include "kernels/head.hpp"
#include "kernels/layer.hpp"
#include "kernels/rows.hpp"

namespace artabpfn::engine {

struct LayerWeights {
  // Feature attention folded into one map [D, D]: Wo_f Wv_f, computed in double at load and
  // rounded once (docs/model.md, "One layer": h = LN1(x + Wo_f (Wv_f x)), linear in x): one
  // product a layer instead of two, with one float rounding of the map instead of one of an
  // intermediate row.
  const float* feature = nullptr;
  const float *q, *k, *v, *out;  // attn_rows projections [D, D]
  const float *ff_in, *ff_in_bias, *ff_out, *ff_out_bias;
  const float *norm1_weight, *norm1_bias, *norm2_weight, *norm2_bias, *norm3_weight, *norm3_bias;
  // q, k and v stacked [3D, D] (rows 0..D-1 = q, then k, then v): one linear gives [N, 3D] rows
  // q | k | v with each output's arithmetic unchanged.
  const float* qkv = nullptr;
};

class DeviceModel {
 public:
  // Validates the weights and uploads them, waiting for the copies (throws InputError or CudaError).
  explicit DeviceModel(const ModelWeights& weights);

  const ModelConfig& config() const { return config_; }
  const LayerWeights& layer(int i) const { return layers_.at(static_cast<std::size_t>(i)); }
  kernels::EmbeddingWeights embedding() const;
  kernels::MixtureBiases mixture_biases() const;
  const float* tensor(const std::string& name) const;  // device pointer of a state_dict tensor
  std::size_t bytes() const { return (storage_.size() + derived_storage_.size()) * sizeof(float); }

 private:
  ModelConfig config_;
  kernels::DeviceBuffer<float> storage_;
  // Per layer: the stacked q|k|v weights [3D, D], then the folded feature map [D, D].
  kernels::DeviceBuffer<float> derived_storage_;
  std::map<std::string, const float*> tensors_;
  std::vector<LayerWeights> layers_;
};

}  // namespace artabpfn::engine
