#pragma once
// The engine's precisions the benchmarks time, as their command lines name them: those that run
// every job (SessionOptions::precision; mixed is density only).
#include <string>
#include <vector>

namespace artabpfn::bench {

inline const std::vector<std::string> kTimedPrecisions = {"float32", "tf32", "tf32x3"};

}  // namespace artabpfn::bench
