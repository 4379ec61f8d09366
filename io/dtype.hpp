#pragma once
// Safetensors dtype names and byte sizes beyond the public dtype_name/dtype_size.
#include <cstdint>
#include <optional>
#include <string_view>

#include "artabpfn/safetensors.hpp"

namespace artabpfn::io_detail {

// The dtype a header names, or nullopt when this project does not read it.
std::optional<safetensors::DType> dtype_from_name(std::string_view name);
// True for dtypes of the safetensors format that this project does not read (BOOL, U8, F8_E4M3...),
// so that errors can tell "unsupported" from "unknown".
bool is_other_safetensors_dtype(std::string_view name);
// "F16, BF16, F32, F64, I32, I64", for error messages.
std::string_view supported_dtype_list();
// Bytes of a tensor: product(shape) * dtype_size, or nullopt when a dimension is negative or the
// product overflows (also when a zero dimension would hide an overflowing product of the others,
// so that every accepted shape has strides that fit in 64 bits).
std::optional<std::uint64_t> byte_count(const Shape& shape, safetensors::DType dtype);

}  // namespace artabpfn::io_detail
