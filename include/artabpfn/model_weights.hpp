#pragma once
// A PyTorch `state_dict` of ARTabPFN in float32 host memory, validated against its configuration.
#include <map>
#include <string>
#include <vector>

#include "artabpfn/host_tensor.hpp"
#include "artabpfn/model_config.hpp"

namespace artabpfn {

struct TensorSpec {
  std::string name;
  Shape shape;
};

// Every tensor the model needs, with its shape, in state_dict order (docs/model.md, "The
// weights file").
std::vector<TensorSpec> expected_tensors(const ModelConfig& config);

struct ModelWeights {
  ModelConfig config;
  std::map<std::string, HostTensor<float>> tensors;

  // The tensor `name`; throws InputError naming it when it is missing.
  const HostTensor<float>& at(const std::string& name) const;
  // Throws InputError naming the first missing or mis-shaped tensor.
  void validate() const;
};

// Per-layer tensor name: layer_tensor(3, "norm1.weight") == "backbone.layers.3.norm1.weight".
std::string layer_tensor(int layer, const std::string& suffix);

}  // namespace artabpfn
