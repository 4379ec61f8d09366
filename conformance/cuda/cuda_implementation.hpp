#pragma once
// The CUDA kernels and the engine's jobs behind the conformance adapter interface (the contracts
// they expose; see cuda_implementation.cpp). Needs a usable CUDA device when a case runs.
#include "conformance/adapter.hpp"

namespace artabpfn::conformance {

Implementation cuda_implementation();

}  // namespace artabpfn::conformance
