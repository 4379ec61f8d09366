#pragma once
// The plain float32 CPU implementation under test (attention.hpp, model.hpp) behind the
// conformance adapter interface: one function per contract, all contracts.
#include "conformance/adapter.hpp"

namespace artabpfn::conformance {

Implementation float32_cpu_implementation();

}  // namespace artabpfn::conformance
