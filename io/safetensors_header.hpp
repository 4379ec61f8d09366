#pragma once
// Parsing and validating the JSON header of a safetensors file.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "artabpfn/safetensors.hpp"

namespace artabpfn::io_detail {

struct Header {
  std::map<std::string, std::string> metadata;
  std::vector<safetensors::TensorInfo> tensors;  // sorted by data offsets
};

// `text` is the header (N bytes after the length), `data_bytes` the size of the data section that
// follows it. Throws InputError "<source>: ..." naming the tensor for every violation of the format.
Header parse_header(std::string_view text, std::uint64_t data_bytes, const std::string& source);

}  // namespace artabpfn::io_detail
