#pragma once
// Exact widening of the 16-bit float formats to float32 (every F16 and BF16 value is a float).
#include <cstdint>

namespace artabpfn::io_detail {

float f16_to_float(std::uint16_t bits);   // IEEE 754 binary16
float bf16_to_float(std::uint16_t bits);  // bfloat16: the top half of a binary32

}  // namespace artabpfn::io_detail
