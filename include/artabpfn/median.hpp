#pragma once
// The median every benchmark and timing report of the project quotes: the middle sample after
// sorting (the upper of the two middle ones for an even count), 0 for no samples.
#include <algorithm>
#include <vector>

namespace artabpfn {

template <class T>
double median(std::vector<T> samples) {
  if (samples.empty()) return 0.0;
  std::sort(samples.begin(), samples.end());
  return static_cast<double>(samples[samples.size() / 2]);
}

}  // namespace artabpfn
