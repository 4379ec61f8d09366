#include "engine/device_model.hpp"

#include <algorithm>

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
  // The resident decode step's weight tiles (kernels/decode.hpp), in the order a step consumes them.
  std::vector<float> tiles;
  std::vector<std::size_t> tile_offsets;
  const auto add_tiles = [&](const std::vector<float>& w, int out, int in) {
    const int width = kernels::decode_tile_width(in, out);
    for (int c0 = 0; c0 < out; c0 += width) {
      tile_offsets.push_back(tiles.size());
      const std::size_t at = tiles.size();
      tiles.resize(at + std::size_t(in) * std::size_t(width), 0.0f);
      for (int k = 0; k < in; ++k)
        for (int o = c0; o < std::min(out, c0 + width); ++o)
          tiles[at + std::size_t(k) * std::size_t(width) + std::size_t(o - c0)] = w[std::size_t(o) * std::size_t(in) + std::size_t(k)];
    }
  };
  const int D = config_.d_model, F = config_.d_ff;
  std::vector<kernels::DecodeLayer> table;
  if (D > kernels::kResidentMaxWidth || F > kernels::kResidentMaxWidth) return;  // not for the resident step
  for (int i = 0; i < config_.n_layers; ++i) {
    const auto w = [&](const char* part) -> const std::vector<float>& { return weights.at(layer_tensor(i, part)).data; };
    add_tiles(w("attn_features.v_proj.weight"), D, D);
    add_tiles(w("attn_features.out_proj.weight"), D, D);
    std::vector<float> stacked;
    for (const char* part : {"attn_rows.q_proj.weight", "attn_rows.k_proj.weight", "attn_rows.v_proj.weight"})
      stacked.insert(stacked.end(), w(part).begin(), w(part).end());
    add_tiles(stacked, 3 * D, D);
    add_tiles(w("attn_rows.out_proj.weight"), D, D);
    add_tiles(w("ff.0.weight"), F, D);
    add_tiles(w("ff.2.weight"), D, F);
    const LayerWeights& L = layers_[std::size_t(i)];
    table.push_back({L.ff_in_bias, L.ff_out_bias, L.norm1_weight, L.norm1_bias, L.norm2_weight, L.norm2_bias,
                     L.norm3_weight, L.norm3_bias});
  }
  add_tiles(weights.at("head.head.0.weight").data, F, D);
  add_tiles(weights.at("head.head.2.weight").data, 3 * config_.num_components, F);
  decode_tiles_ = kernels::DeviceBuffer<float>(tiles);
  std::vector<kernels::DecodeTile> tile_table;
  for (std::size_t i = 0; i < tile_offsets.size(); ++i) {
    const std::size_t end = i + 1 < tile_offsets.size() ? tile_offsets[i + 1] : tiles.size();
    tile_table.push_back({decode_tiles_.data() + tile_offsets[i], static_cast<unsigned>((end - tile_offsets[i]) * sizeof(float))});
  }
  decode_tile_table_ = kernels::DeviceBuffer<kernels::DecodeTile>(tile_table);
  decode_layers_ = kernels::DeviceBuffer<kernels::DecodeLayer>(table);
}

kernels::DecodeModel DeviceModel::decode_model() const {
  return {decode_layers_.data(),
          decode_tile_table_.data(),
          static_cast<int>(decode_tile_table_.size()),
          config_.n_layers,
          config_.d_model,
          config_.n_heads,
          config_.d_ff,
          embedding(),
          tensor("backbone.norm.weight"),
          tensor("backbone.norm.bias"),
          tensor("head.head.0.bias"),
          tensor("head.head.2.bias"),
          mixture_biases()};
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
