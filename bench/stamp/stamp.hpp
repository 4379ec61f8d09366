#pragma once
// What every benchmark's JSON carries, and its text output names: the commit the benchmark was
// built from ("commit", recorded by write_commit.cmake at build time: a hash, with "+dirty" where
// tracked files differed, or "unknown"), the device it ran on ("device": name, compute capability,
// driver and runtime versions, SMs, memory, clocks) and when ("date", UTC). Call on a usable GPU.
#include <nlohmann/json.hpp>
#include <string>

namespace artabpfn::bench {

// Adds "commit", "device" and "date" to a benchmark's JSON object.
void stamp(nlohmann::ordered_json& out);

// "commit 1a2b..., NVIDIA H100 80GB HBM3, compute 9.0, driver 13.0, runtime 13.0", for text output.
std::string stamp_line();

}  // namespace artabpfn::bench
