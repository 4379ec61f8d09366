#pragma once
// Explicit little-endian loads and stores, the byte order of safetensors whatever the host's is.
// Byte-wise assembly also makes unaligned data safe (no pointer casts).
#include <concepts>
#include <cstddef>
#include <vector>

namespace artabpfn::io_detail {

template <std::unsigned_integral U>
U load_le(const std::byte* bytes) {
  U value = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i) {
    value = static_cast<U>(value | static_cast<U>(std::to_integer<U>(bytes[i]) << (8 * i)));
  }
  return value;
}

template <std::unsigned_integral U>
void append_le(std::vector<std::byte>& out, U value) {
  for (std::size_t i = 0; i < sizeof(U); ++i) {
    out.push_back(static_cast<std::byte>((value >> (8 * i)) & 0xFFu));
  }
}

}  // namespace artabpfn::io_detail
