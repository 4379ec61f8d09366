#pragma once
// The result of `density` and `sample`: table[task][row][target], where a row is one value set
// (density) or one sample, each holding that task's target_len values, in double.
#include <vector>

namespace artabpfn::jobs {

using Table = std::vector<std::vector<std::vector<double>>>;

}  // namespace artabpfn::jobs
