#pragma once
// Random model weights for tests and the conformance vectors' models.
#include <cstdint>

#include "artabpfn/model_config.hpp"
#include "artabpfn/model_weights.hpp"

namespace artabpfn {

// Weights drawn like the peer fixtures' (PortableRandom, so a seed gives the same weights on every
// platform): N(0, 2/sqrt(fan_in)) matrices, LayerNorm weights 1 + 0.1 N(0,1), biases 0.1 N(0,1),
// AR tokens 0.5 N(0,1), markers N(0,1).
ModelWeights random_weights(const ModelConfig& config, std::uint64_t seed);

}  // namespace artabpfn
