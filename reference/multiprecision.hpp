#pragma once
// The multiprecision scalar: 50 decimal digits, binary floating point, expression templates off
// (Eigen's kernels assume plain value semantics).
#include <boost/multiprecision/cpp_bin_float.hpp>
#include <boost/multiprecision/eigen.hpp>

namespace artabpfn::reference {

using Multiprecision =
    boost::multiprecision::number<boost::multiprecision::cpp_bin_float<50>, boost::multiprecision::et_off>;

}  // namespace artabpfn::reference
