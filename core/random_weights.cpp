#include "artabpfn/random_weights.hpp"

#include <cmath>
#include <string>

#include "artabpfn/portable_random.hpp"

namespace artabpfn {

ModelWeights random_weights(const ModelConfig& c, std::uint64_t seed) {
  PortableRandom rng(seed);
  ModelWeights w;
  w.config = c;
  for (const TensorSpec& spec : expected_tensors(c)) {
    HostTensor<float> t(spec.shape);
    const bool norm = spec.name.find("norm") != std::string::npos;
    const bool weight = spec.name.size() > 7 && spec.name.compare(spec.name.size() - 7, 7, ".weight") == 0;
    double mean = 0, sd = 0.1;
    if (norm && weight) mean = 1;
    else if (spec.name == "ar_tokens") sd = 0.5;
    else if (spec.name == "embedder.marker_embed.weight") sd = 1.0;
    else if (spec.shape.size() == 2) sd = 2.0 / std::sqrt(double(spec.shape[1]));
    for (float& v : t.data) v = float(mean + sd * rng.normal());
    w.tensors.emplace(spec.name, std::move(t));
  }
  return w;
}

}  // namespace artabpfn
