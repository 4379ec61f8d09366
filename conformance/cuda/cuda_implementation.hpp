#pragma once
// The CUDA kernels and the engine's jobs behind the conformance adapter interface (the contracts
// they expose; see cuda_implementation.cpp). Needs a usable CUDA device when a case runs.
#include <optional>

#include "conformance/adapter.hpp"
#include "engine/session_options.hpp"

namespace artabpfn::conformance {

// engine_precision: the engine's precision for the model jobs and the head's products (float32,
// tf32 or tf32x3; mixed throws InputError); nullopt: ARTABPFN_CONFORMANCE_PRECISION, else float32.
Implementation cuda_implementation(std::optional<engine::Precision> engine_precision = std::nullopt);

}  // namespace artabpfn::conformance
