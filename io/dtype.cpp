#include "dtype.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include "artabpfn/error.hpp"

namespace artabpfn::safetensors {

std::string dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F16:
      return "F16";
    case DType::BF16:
      return "BF16";
    case DType::F32:
      return "F32";
    case DType::F64:
      return "F64";
    case DType::I32:
      return "I32";
    case DType::I64:
      return "I64";
  }
  throw InputError("invalid safetensors dtype value " + std::to_string(static_cast<int>(dtype)));
}

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F16:
    case DType::BF16:
      return 2;
    case DType::F32:
    case DType::I32:
      return 4;
    case DType::F64:
    case DType::I64:
      return 8;
  }
  throw InputError("invalid safetensors dtype value " + std::to_string(static_cast<int>(dtype)));
}

}  // namespace artabpfn::safetensors

namespace artabpfn::io_detail {

using safetensors::DType;

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const DType dtype : {DType::F16, DType::BF16, DType::F32, DType::F64, DType::I32, DType::I64}) {
    if (name == safetensors::dtype_name(dtype)) return dtype;
  }
  return std::nullopt;
}

bool is_other_safetensors_dtype(std::string_view name) {
  // The rest of the Dtype enum of the format's reference implementation (Rust crate safetensors).
  static constexpr std::array<std::string_view, 14> kOthers = {"BOOL",    "U8",      "I8",      "I16",     "U16",
                                                               "U32",     "U64",     "F8_E5M2", "F8_E4M3", "F8_E8M0",
                                                               "F6_E2M3", "F6_E3M2", "F4",      "C64"};
  return std::find(kOthers.begin(), kOthers.end(), name) != kOthers.end();
}

std::string_view supported_dtype_list() { return "F16, BF16, F32, F64, I32, I64"; }

std::optional<std::uint64_t> byte_count(const Shape& shape, DType dtype) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::uint64_t nonzero_product = 1;
  bool has_zero = false;
  for (const std::int64_t dim : shape) {
    if (dim < 0) return std::nullopt;
    if (dim == 0) {
      has_zero = true;
      continue;
    }
    const auto d = static_cast<std::uint64_t>(dim);
    if (nonzero_product > kMax / d) return std::nullopt;
    nonzero_product *= d;
  }
  const std::uint64_t width = safetensors::dtype_size(dtype);
  if (nonzero_product > kMax / width) return std::nullopt;
  return has_zero ? 0 : nonzero_product * width;
}

}  // namespace artabpfn::io_detail
