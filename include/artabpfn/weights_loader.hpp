#pragma once
// Loading a PyTorch state_dict saved with safetensors into ModelWeights (docs/model.md, "The
// weights file").
#include <filesystem>
#include <optional>

#include "artabpfn/model_weights.hpp"
#include "artabpfn/notices.hpp"
#include "artabpfn/safetensors.hpp"

namespace artabpfn {

struct LoadOptions {
  std::optional<int> n_heads;  // the caller's value wins over the metadata's (with a notice if they differ)
  NoticeSink notices;          // where notices go; empty means stderr
};

// Infers the configuration from shapes plus n_heads, strips a `module.` or `_orig_mod.` prefix
// carried by every name (notice), upcasts F16/BF16 to float32 (notice), warns about tensors the
// model does not name, and throws InputError naming the file and tensor for anything missing or
// mis-shaped.
ModelWeights load_weights(const std::filesystem::path& path, const LoadOptions& options = {});
ModelWeights weights_from_file(const safetensors::File& file, const LoadOptions& options = {});

// Writes weights as a state_dict file with config values in __metadata__ (for tests and tools).
void save_weights(const ModelWeights& weights, const std::filesystem::path& path);

}  // namespace artabpfn
