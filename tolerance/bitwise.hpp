#pragma once
// Bitwise equality of float results (NaN payloads and signed zeros included): the comparison for
// results that must not depend on batch size, launch shape, chunking, threads or a fused epilogue.
#include <span>
#include <string>

namespace artabpfn::tolerance {

// On a difference, `where` (if given) describes the first differing element or the sizes.
bool bitwise_equal(std::span<const float> a, std::span<const float> b, std::string* where = nullptr);

}  // namespace artabpfn::tolerance
