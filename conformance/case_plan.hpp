#pragma once
// Internal to the vector generator: the plan of the quick and full sets (which cases, with which
// shapes, families and tolerance factors), the models they use, and each case's seed.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "artabpfn/model_weights.hpp"
#include "conformance/format.hpp"
#include "conformance/generators.hpp"

namespace artabpfn::conformance::detail {

struct PlannedModel {
  std::string name;
  ModelConfig config;
  bool multiprecision;  // small enough for the 50-digit reference
};

struct Planned {
  CaseSpec spec;
  double factor = 0.0;
  std::function<Generated(std::uint64_t)> make;
};

// A case's seed depends on the set's seed and the case's name only, so one case regenerates
// alone (--case) to the same bits.
std::uint64_t case_seed(std::uint64_t seed, const std::string& name);

// The models of a set: small ones in both, the paper configuration in the full set.
std::vector<PlannedModel> planned_models(const std::string& set);
// Their weights, drawn from the set's seed.
std::map<std::string, ModelWeights> model_weights(const std::string& set, std::uint64_t seed);

// Every case of `set` ("quick" or "full"; InputError otherwise), named uniquely, in order.
std::vector<Planned> plan(const std::string& set, const std::map<std::string, ModelWeights>& weights);

}  // namespace artabpfn::conformance::detail
