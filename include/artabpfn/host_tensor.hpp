#pragma once
// A dense, row-major tensor in host memory: the unit that files, weights and tests exchange.
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace artabpfn {

using Shape = std::vector<std::int64_t>;

inline std::int64_t element_count(const Shape& shape) {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

std::string shape_to_string(const Shape& shape);

// The multi-index of flat (row-major) element `flat` of a tensor of `shape`; a zero extent counts as one.
Shape position_of(std::int64_t flat, std::span<const std::int64_t> shape);

// shape_to_string(position_of(flat, shape)), e.g. "[2, 0, 1]".
std::string position_to_string(std::int64_t flat, std::span<const std::int64_t> shape);

template <class T>
struct HostTensor {
  Shape shape;
  std::vector<T> data;

  HostTensor() = default;
  HostTensor(Shape s, std::vector<T> d) : shape(std::move(s)), data(std::move(d)) {}
  explicit HostTensor(Shape s) : shape(std::move(s)), data(static_cast<std::size_t>(element_count(shape))) {}

  std::int64_t dim(std::size_t i) const { return shape.at(i); }
  std::size_t rank() const { return shape.size(); }
  std::int64_t size() const { return static_cast<std::int64_t>(data.size()); }
};

}  // namespace artabpfn
