#include "tolerance/double_rounding.hpp"

#include <cmath>
#include <cstdio>

namespace artabpfn::tolerance {

bool within_double_rounding(std::span<const double> reference, std::span<const double> got, double floor,
                            bool rounded_to_float, std::string& where) {
  if (reference.size() != got.size()) {
    where = "sizes " + std::to_string(got.size()) + " and " + std::to_string(reference.size()) + " differ";
    return false;
  }
  for (std::size_t i = 0; i < reference.size(); ++i) {
    const double t = reference[i], g = got[i];
    const double d = std::abs(g - t);
    const bool ok = std::isfinite(t) ? d <= floor + (rounded_to_float ? std::ldexp(std::abs(t), -24) : 0.0)
                                     : (g == t);  // -inf == -inf; NaN never equals
    if (ok) continue;
    char line[256];
    std::snprintf(line, sizeof line, "element %zu: got %.17g, double reference %.17g, |d| %.3g, floor %.3g", i, g, t,
                  d, floor);
    where = line;
    return false;
  }
  return true;
}

}  // namespace artabpfn::tolerance
