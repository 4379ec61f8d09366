#include "artabpfn/host_tensor.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace artabpfn {

std::string shape_to_string(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

Shape position_of(std::int64_t flat, std::span<const std::int64_t> shape) {
  Shape position(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    const std::int64_t n = std::max<std::int64_t>(shape[d], 1);
    position[d] = flat % n;
    flat /= n;
  }
  return position;
}

std::string position_to_string(std::int64_t flat, std::span<const std::int64_t> shape) {
  return shape_to_string(position_of(flat, shape));
}

}  // namespace artabpfn
