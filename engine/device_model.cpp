#include "engine/device_model.hpp"

#include "artabpfn/error.hpp"
#include "engine/stream.hpp"

namespace artabpfn::engine {

DeviceModel::DeviceModel(const ModelWeights& weights) : config_(weights.config) {
  weights.validate();
  const Stream upload_stream;
  std::vector<float> host;
  std::map<std::string, std::size_t> offsets;
  for (const TensorSpec& spec : expected_tensors(config_)) {
    const auto& t = weights.at(spec.name);
    offsets[spec.name] = host.size();
    host.insert(host.end(), t.data.begin(), t.data.end());
  }
  storage_ = kernels::DeviceBuffer<float>(host, upload_stream.get());
  const std::size_t D = static_cast<std::size_t>(config_.d_model), per_layer = 4 * D * D;
  std::vector<float> derived;
  derived.reserve(per_layer * static_cast<std::size_t>(config_.n_layers));
  for (int i = 0; i < config_.n_layers; ++i) {
    for (const char* part : {"attn_rows.q_proj.weight", "attn_rows.k_proj.weight", "attn_rows.v_proj.weight"}) {
      const auto& t = weights.at(layer_tensor(i, part));
      derived.insert(derived.end(), t.data.begin(), t.data.end());
    }
    const auto& wv = weights.at(layer_tensor(i, "attn_features.v_proj.weight")).data;
    const auto& wo = weights.at(layer_tensor(i, "attn_features.out_proj.weight")).data;
    for (std::size_t r = 0; r < D; ++r)
      for (std::size_t c = 0; c < D; ++c) {
        double sum = 0.0;
        for (std::size_t k = 0; k < D; ++k) sum += double(wo[r * D + k]) * double(wv[k * D + c]);
        derived.push_back(static_cast<float>(sum));
      }
  }
  derived_storage_ = kernels::DeviceBuffer<float>(derived, upload_stream.get());
  // Contexts run on streams of their own: the weights are complete before any of them starts.
  upload_stream.synchronize();
  for (const auto& [name, offset] : offsets) tensors_[name] = storage_.data() + offset;
  for (int i = 0; i < config_.n_layers; ++i) {
    const auto at = [&](const std::string& suffix) { return tensor(layer_tensor(i, suffix)); };
    const float* layer_derived = derived_storage_.data() + std::size_t(i) * per_layer;
    layers_.push_back(LayerWeights{layer_derived + 3 * D * D, at("attn_rows.q_proj.weight"),
                                   at("attn_rows.k_proj.weight"), at("attn_rows.v_proj.weight"),
                                   at("attn_rows.out_proj.weight"), at("ff.0.weight"), at("ff.0.bias"),
                                   at("ff.2.weight"), at("ff.2.bias"), at("norm1.weight"), at("norm1.bias"),
                                   at("norm2.weight"), at("norm2.bias"), at("norm3.weight"), at("norm3.bias"),
                                   layer_derived});
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
