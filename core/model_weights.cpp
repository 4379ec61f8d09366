#include "artabpfn/model_weights.hpp"

#include <fmt/format.h>

#include "artabpfn/error.hpp"

namespace artabpfn {

std::vector<TensorSpec> expected_tensors(const ModelConfig& config) {
  const std::int64_t D = config.d_model;
  const std::int64_t d_ff = config.d_ff;
  const std::int64_t K = config.num_components;
  std::vector<TensorSpec> specs = {
      {"embedder.x_embed.weight", {D, 1}},      {"embedder.x_embed.bias", {D}},
      {"embedder.y_embed.weight", {D, 1}},      {"embedder.y_embed.bias", {D}},
      {"embedder.marker_embed.weight", {3, D}},  // rows: target, context, buffer
  };
  for (int i = 0; i < config.n_layers; ++i) {
    // Feature attention's q/k projections do not change any result (docs/model.md, "One layer")
    // but are part of the state_dict.
    for (const char* attn : {"attn_features", "attn_rows"}) {
      for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
        specs.push_back({layer_tensor(i, fmt::format("{}.{}.weight", attn, proj)), {D, D}});
      }
    }
    specs.push_back({layer_tensor(i, "ff.0.weight"), {d_ff, D}});
    specs.push_back({layer_tensor(i, "ff.0.bias"), {d_ff}});
    specs.push_back({layer_tensor(i, "ff.2.weight"), {D, d_ff}});
    specs.push_back({layer_tensor(i, "ff.2.bias"), {D}});
    for (const char* norm : {"norm1", "norm2", "norm3"}) {
      specs.push_back({layer_tensor(i, fmt::format("{}.weight", norm)), {D}});
      specs.push_back({layer_tensor(i, fmt::format("{}.bias", norm)), {D}});
    }
  }
  const std::vector<TensorSpec> tail = {
      {"backbone.norm.weight", {D}},
      {"backbone.norm.bias", {D}},
      {"head.head.0.weight", {d_ff, D}},
      {"head.head.0.bias", {d_ff}},
      {"head.head.2.weight", {3 * K, d_ff}},
      {"head.head.2.bias", {3 * K}},
      {"head.mean_bias", {K}},
      {"head.std_bias", {K}},
      {"head.weight_bias", {K}},
      {"ar_tokens", {config.buffer_size, D}},
  };
  specs.insert(specs.end(), tail.begin(), tail.end());
  return specs;
}

const HostTensor<float>& ModelWeights::at(const std::string& name) const {
  const auto it = tensors.find(name);
  if (it == tensors.end()) throw InputError(fmt::format("weights: tensor '{}' is missing", name));
  return it->second;
}

void ModelWeights::validate() const {
  config.validate();
  for (const TensorSpec& spec : expected_tensors(config)) {
    const HostTensor<float>& t = at(spec.name);
    if (t.shape != spec.shape) {
      throw InputError(fmt::format("weights: tensor '{}' has shape {}, expected {}", spec.name,
                                   shape_to_string(t.shape), shape_to_string(spec.shape)));
    }
    if (t.size() != element_count(t.shape)) {
      throw InputError(fmt::format("weights: tensor '{}' holds {} values, but shape {} needs {}", spec.name, t.size(),
                                   shape_to_string(t.shape), element_count(t.shape)));
    }
  }
}

std::string layer_tensor(int layer, const std::string& suffix) {
  return fmt::format("backbone.layers.{}.{}", layer, suffix);
}

}  // namespace artabpfn
