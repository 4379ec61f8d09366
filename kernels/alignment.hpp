#pragma once
// 16-byte alignment, which the kernels' float4 loads and 16-byte cp.async copies need.
#include <cstdint>

namespace artabpfn::kernels::detail {

inline bool aligned_16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

}  // namespace artabpfn::kernels::detail
