#pragma once
// Writing a conformance vector set (artabpfn vectors): the case plan of the quick or full set,
// each case's inputs and reference outputs, and index.json with the frozen tolerances.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

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

}  // namespace artabpfn::conformance
