#pragma once
// RapidCheck draws shared by the layer and head properties of this suite.
#include <rapidcheck.h>

#include <cstdint>

namespace artabpfn::gpu_layer_test {

inline std::uint64_t any_seed() { return *rc::gen::arbitrary<std::uint64_t>(); }

}  // namespace artabpfn::gpu_layer_test
