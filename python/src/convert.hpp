#pragma once
// Arrays between Python and the library: NumPy arrays (float64 or int64, C order, in host memory;
// the Python layer converts PyTorch tensors and other dtypes before they get here) to host tensors,
// and results back to NumPy arrays that own their memory.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "artabpfn/host_tensor.hpp"
#include "conformance/format.hpp"

namespace artabpfn::python {

namespace nb = nanobind;

using DoubleArray = nb::ndarray<const double, nb::c_contig, nb::device::cpu>;
using IntArray = nb::ndarray<const std::int64_t, nb::c_contig, nb::device::cpu>;
using NumpyDoubles = nb::ndarray<nb::numpy, double>;
using NumpyInts = nb::ndarray<nb::numpy, std::int64_t>;

Shape shape_of(const DoubleArray& array);
Shape shape_of(const IntArray& array);
HostTensor<double> host_tensor(const DoubleArray& array);
std::vector<double> values_of(const DoubleArray& array);
std::vector<std::int64_t> values_of(const IntArray& array);

// A NumPy array that owns `values` (shape's product must be values.size()).
NumpyDoubles numpy_array(std::vector<double> values, const Shape& shape);
NumpyInts numpy_array(std::vector<std::int64_t> values, const Shape& shape);
NumpyDoubles numpy_array(const HostTensor<double>& tensor);

// A case's inputs for the conformance library: float tensors (F64) and integer ones (lengths,
// task ids, flags) by name.
conformance::CaseFile case_inputs(const std::map<std::string, DoubleArray>& values,
                                  const std::map<std::string, IntArray>& integers);
// A tensor as a NumPy array (float tensors as float64, integer ones as int64).
nb::object numpy_array(const conformance::Tensor& tensor);

}  // namespace artabpfn::python
