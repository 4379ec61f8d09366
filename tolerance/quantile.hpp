#pragma once
// The nearest-rank quantile: the smallest value with at least q of the values at or below it.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace artabpfn::tolerance {

// Reorders `values` (nth_element); 0 for none. q in (0, 1]: 0.5 the median, 1 the maximum.
template <class T>
T nearest_rank_quantile(std::vector<T>& values, double q) {
  if (values.empty()) return T(0);
  const auto rank = static_cast<std::size_t>(std::ceil(q * double(values.size())));
  const auto at = values.begin() + static_cast<std::ptrdiff_t>(std::clamp<std::size_t>(rank, 1, values.size()) - 1);
  std::nth_element(values.begin(), at, values.end());
  return *at;
}

}  // namespace artabpfn::tolerance
