#pragma once
// One task from CSV files: --context rows "x_0,...,x_{F-1},y" and --targets rows "x_0,...,x_{F-1}"
// (an optional first line that is not numeric is taken as a header). Why by hand: the format is
// a flat table of numbers, and every malformed cell must be reported by file, line and column.
#include <string>

#include "artabpfn/task_tensors.hpp"

namespace artabpfn::cli {

TaskTensors read_csv_task(const std::string& context_csv, const std::string& targets_csv);

}  // namespace artabpfn::cli
