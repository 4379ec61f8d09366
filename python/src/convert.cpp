#include "convert.hpp"

#include <utility>

namespace artabpfn::python {
namespace {

template <class T>
nb::ndarray<nb::numpy, T> owning_array(std::vector<T> values, const Shape& shape) {
  auto* owned = new std::vector<T>(std::move(values));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  const std::vector<std::size_t> dims(shape.begin(), shape.end());
  return nb::ndarray<nb::numpy, T>(owned->data(), dims.size(), dims.data(), owner);
}

template <class Array>
Shape shape_of_array(const Array& array) {
  Shape shape;
  for (std::size_t d = 0; d < array.ndim(); ++d) shape.push_back(std::int64_t(array.shape(d)));
  return shape;
}

}  // namespace

Shape shape_of(const DoubleArray& array) { return shape_of_array(array); }
Shape shape_of(const IntArray& array) { return shape_of_array(array); }

std::vector<double> values_of(const DoubleArray& array) { return {array.data(), array.data() + array.size()}; }
std::vector<std::int64_t> values_of(const IntArray& array) { return {array.data(), array.data() + array.size()}; }

HostTensor<double> host_tensor(const DoubleArray& array) {
  HostTensor<double> t;
  t.shape = shape_of(array);
  t.data = values_of(array);
  return t;
}

NumpyDoubles numpy_array(std::vector<double> values, const Shape& shape) {
  return owning_array(std::move(values), shape);
}
NumpyInts numpy_array(std::vector<std::int64_t> values, const Shape& shape) {
  return owning_array(std::move(values), shape);
}
NumpyDoubles numpy_array(const HostTensor<double>& tensor) { return owning_array(tensor.data, tensor.shape); }

conformance::CaseFile case_inputs(const std::map<std::string, DoubleArray>& values,
                                  const std::map<std::string, IntArray>& integers) {
  conformance::CaseFile file;
  for (const auto& [name, array] : values)
    file.inputs.emplace_back(name, conformance::Tensor::f64(shape_of(array), values_of(array)));
  for (const auto& [name, array] : integers)
    file.inputs.emplace_back(name, conformance::Tensor::i64(shape_of(array), values_of(array)));
  return file;
}

nb::object numpy_array(const conformance::Tensor& tensor) {
  if (tensor.is_integer()) return nb::cast(numpy_array(tensor.ints, tensor.shape));
  return nb::cast(numpy_array(tensor.values, tensor.shape));
}

}  // namespace artabpfn::python
