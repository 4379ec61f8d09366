#pragma once
// The CPU implementation under test (attention.hpp, model.hpp) behind the conformance adapter
// interface: one function per contract, all contracts in float32; in another precision
// (precision.hpp) the attention contracts and the merge only.
#include "conformance/adapter.hpp"
#include "conformance/float32_cpu/precision.hpp"

namespace artabpfn::conformance {

Implementation float32_cpu_implementation(cpu::Precision precision = cpu::Precision::kFloat32);

}  // namespace artabpfn::conformance
