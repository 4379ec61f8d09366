#include "engine/device_model.hpp"

#include "artabpfn/error.hpp"

namespace artabpfn::engine {

DeviceModel::DeviceModel(const ModelWeights& weights) : config_(weights.config) {
  weights.validate();
  std::vector<float> host;
  std::map<std::string, std::size_t> offsets;
  for (const TensorSpec& spec : expected_tensors(config_)) {
    const auto& t = weights.at(spec.name);
    offsets[spec.name] = host.size();
    host.insert(host.end(), t.data.begin(), t.data.end());
  }
  storage_ = kernels::DeviceBuffer<float>(host);
  std::vector<float> qkv;
  for (int i = 0; i < config_.n_layers; ++i)
    for (const char* part : {"attn_rows.q_proj.weight", "attn_rows.k_proj.weight", "attn_rows.v_proj.weight"}) {
      const auto& t = weights.at(layer_tensor(i, part));
      qkv.insert(qkv.end(), t.data.begin(), t.data.end());
    }
  qkv_storage_ = kernels::DeviceBuffer<float>(qkv);
  for (const auto& [name, offset] : offsets) tensors_[name] = storage_.data() + offset;
  for (int i = 0; i < config_.n_layers; ++i) {
    const auto at = [&](const std::string& suffix) { return tensor(layer_tensor(i, suffix)); };
    layers_.push_back(LayerWeights{
        at("attn_features.v_proj.weight"), at("attn_features.out_proj.weight"), at("attn_rows.q_proj.weight"),
        at("attn_rows.k_proj.weight"), at("attn_rows.v_proj.weight"), at("attn_rows.out_proj.weight"),
        at("ff.0.weight"), at("ff.0.bias"), at("ff.2.weight"), at("ff.2.bias"), at("norm1.weight"), at("norm1.bias"),
        at("norm2.weight"), at("norm2.bias"), at("norm3.weight"), at("norm3.bias"),
        qkv_storage_.data() + std::size_t(i) * 3 * std::size_t(config_.d_model) * std::size_t(config_.d_model)});
  }
}

const float* DeviceModel::tensor(const std::string& name) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) throw InputError("device model has no tensor '" + name + "'");
  return it->second;
}

kernels::EmbeddingWeights DeviceModel::embedding() const {
  return {tensor("embedder.x_embed.weight"), tensor("embedder.x_embed.bias"), tensor("embedder.y_embed.weight"),
          tensor("embedder.y_embed.bias"),   tensor("embedder.marker_embed.weight"), tensor("ar_tokens"),
          config_.d_model,                   config_.buffer_size};
}

kernels::MixtureBiases DeviceModel::mixture_biases() const {
  return {tensor("head.mean_bias"), tensor("head.std_bias"), tensor("head.weight_bias"), config_.num_components};
}

}  // namespace artabpfn::engine
