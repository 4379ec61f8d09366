#include "jobs/float32_range.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "artabpfn/error.hpp"

namespace artabpfn::jobs {

void check_float32_range(const TaskTensors& tasks, const std::string& source, std::string_view backend) {
  const UsedValue largest = largest_used_value(tasks);
  if (std::abs(largest.value) > std::numeric_limits<float>::max())
    throw InputError(fmt::format("{}: {} of task {} holds {:.6g}, beyond float32's range (about 3.4e38) in which the "
                                 "{} backend computes: use --backend reference",
                                 source, largest.tensor, largest.task, largest.value, backend));
}

}  // namespace artabpfn::jobs
