#pragma once
// The rule for kernels that compute in double (the mixed-precision path, kernels/mixed.hpp), per
// element: each value within `floor` (a bound of the double arithmetic's own error) of the double
// reference, plus 2^-24 |reference| where the kernel rounds its output to float32 once;
// non-finite values equal, NaN never passes.
#include <span>
#include <string>

namespace artabpfn::tolerance {

// On failure `where` describes the first failing element.
bool within_double_rounding(std::span<const double> reference, std::span<const double> got, double floor,
                            bool rounded_to_float, std::string& where);

}  // namespace artabpfn::tolerance
