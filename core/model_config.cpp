#include "artabpfn/model_config.hpp"

#include <fmt/format.h>

#include <utility>

#include "artabpfn/error.hpp"

namespace artabpfn {

void ModelConfig::validate() const {
  const auto fail = [this](const std::string& what) {
    throw InputError(fmt::format("model config {}: {}", to_string(), what));
  };
  const std::pair<const char*, int> sizes[] = {{"d_model", d_model},         {"n_heads", n_heads},
                                               {"n_layers", n_layers},       {"d_ff", d_ff},
                                               {"buffer_size", buffer_size}, {"num_components", num_components}};
  for (const auto& [name, value] : sizes) {
    if (value <= 0) fail(fmt::format("{} must be positive, got {}", name, value));
  }
  if (num_components < 2) fail(fmt::format("num_components must be at least 2, got {}", num_components));
  if (d_model % n_heads != 0) fail(fmt::format("d_model {} is not divisible by n_heads {}", d_model, n_heads));
}

std::string ModelConfig::to_string() const {
  return fmt::format("D={} H={} layers={} d_ff={} L={} K={}", d_model, n_heads, n_layers, d_ff, buffer_size,
                     num_components);
}

ModelConfig paper_config() {
  return ModelConfig{
      .d_model = 128, .n_heads = 4, .n_layers = 12, .d_ff = 256, .buffer_size = 32, .num_components = 20};
}

}  // namespace artabpfn
