#pragma once
// The AR-TabPFN configuration (docs/model.md, "Configuration"). n_heads comes from the weights file's
// metadata or the caller; everything else is inferred from tensor shapes.
#include <string>

namespace artabpfn {

struct ModelConfig {
  int d_model = 0;         // D
  int n_heads = 0;         // H; head dim D / H need not be a power of two
  int n_layers = 0;
  int d_ff = 0;            // hidden width of every feed-forward block and of the head
  int buffer_size = 0;     // L: number of learned AR position tokens
  int num_components = 0;  // K >= 2 mixture components

  int head_dim() const { return d_model / n_heads; }
  // Throws InputError naming the offending field (non-positive sizes, D % H != 0, K < 2).
  void validate() const;
  std::string to_string() const;
  bool operator==(const ModelConfig&) const = default;
};

// The configuration of the paper (docs/model.md, "Configuration"): D 128, H 4, 12 layers,
// d_ff 256, L 32, K 20.
ModelConfig paper_config();

}  // namespace artabpfn
