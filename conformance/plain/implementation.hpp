#pragma once
// The plain implementations (attention.hpp, model_jobs.hpp, tf32_jobs.hpp) behind the conformance
// adapter interface: the contracts an arithmetic serves (ContractInfo::precisions), each as the
// tolerance baseline computes it. `artabpfn vectors` freezes each precision's tolerance from these
// results; conformance_plain_adapter runs them on a vector set.
#include "conformance/adapter.hpp"
#include "conformance/plain/arithmetic.hpp"

namespace artabpfn::conformance::plain {

Implementation plain_implementation(Arithmetic arithmetic);

}  // namespace artabpfn::conformance::plain
