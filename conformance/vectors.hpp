#pragma once
// Writing a conformance vector set (artabpfn vectors): the case plan of the quick or full set,
// each case's inputs and reference outputs, and index.json with the frozen tolerances.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "artabpfn/model_weights.hpp"
#include "conformance/format.hpp"

namespace artabpfn::conformance {

inline constexpr std::uint64_t kDefaultSeed = 20261125;

struct VectorOptions {
  std::string set = "quick";       // "quick" (CI, a few MB) or "full"
  std::uint64_t seed = kDefaultSeed;
  std::vector<std::string> cases;  // only these cases (empty: all of the set)
  std::function<void(const std::string&)> progress;  // one line per case written, if set
};

struct VectorSummary {
  std::size_t cases = 0;
  std::uintmax_t bytes = 0;  // all files written
  double seconds = 0.0;
};

// Names of the cases of a set, in index order (no generation).
std::vector<std::string> planned_cases(const std::string& set);

// Writes DIR/index.json, DIR/<case>.safetensors and DIR/model.<name>.safetensors.
VectorSummary write_vectors(const std::filesystem::path& dir, const VectorOptions& options);

// The outputs' frozen tolerances of a case, one per precision it serves (spec.precisions): factor x
// the largest error of the precision's plain implementations on file.inputs, against the expected
// outputs (in their order), plus the floor; integer outputs exact. What write_vectors stores in
// index.json, and what artabpfn.testing holds one result to.
std::vector<OutputSpec> frozen_outputs(const CaseSpec& spec, const CaseFile& file,
                                       const std::vector<std::pair<std::string, Tensor>>& expected_outputs,
                                       const ModelWeights* weights, double factor);

}  // namespace artabpfn::conformance
