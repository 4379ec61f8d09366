#include "artabpfn/host_tensor.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace artabpfn {

std::string shape_to_string(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

}  // namespace artabpfn
