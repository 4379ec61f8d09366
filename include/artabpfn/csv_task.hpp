#pragma once
// One task from two CSV files (the command line's --context and --targets):
//   context   x_0,...,x_{F-1},y    F + 1 columns; no data rows means an empty context (Nc = 0)
//   targets   x_0,...,x_{F-1},y    for density: the values y to score
//             x_0,...,x_{F-1}      for sample: features only
// Cells are separated by commas (no quoting); spaces and tabs around a cell are ignored; a cell
// is a finite decimal number ("3", "+3", "-2.5e-3"; NaN, Inf and values beyond a double's range
// are refused; values below its smallest subnormal become 0). Blank lines are skipped.
// Header rule: the first non-blank line is a header when none of its cells is a number and data
// when all of them are; a first line that mixes numbers and text is an error. Every bad cell is
// reported as FILE:LINE:COLUMN (the first few, and how many more).
// Why by hand: the format is a flat table of numbers, and every bad cell must be located.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "artabpfn/notices.hpp"
#include "artabpfn/task_tensors.hpp"

namespace artabpfn {

struct CsvTable {
  std::vector<std::string> header;  // empty when the first line is data
  std::int64_t columns = 0;         // 0 only when the text has no non-blank line
  std::int64_t rows = 0;            // data rows
  std::vector<double> values;       // rows x columns, row-major
};

// Parses CSV text; `source` names it in errors (InputError listing the bad cells).
CsvTable parse_csv_table(std::string_view text, const std::string& source);
CsvTable read_csv_table(const std::filesystem::path& path);

// What the targets file holds.
enum class CsvTargets {
  kFeaturesAndValue,  // density: x_0..x_{F-1},y
  kFeaturesOnly,      // sample:  x_0..x_{F-1}
};

// The task of the two files (one task; y_target [1, 1, Nt] for kFeaturesAndValue). An empty
// context is allowed and said with a notice.
TaskTensors load_csv_task(const std::filesystem::path& context, const std::filesystem::path& targets,
                          CsvTargets targets_hold, const NoticeSink& notices);
TaskTensors csv_task(const CsvTable& context, const std::string& context_source, const CsvTable& targets,
                     const std::string& targets_source, CsvTargets targets_hold, const NoticeSink& notices);

}  // namespace artabpfn
