#pragma once
// Writing per-task result tables: CSV (one row per task and row index, task-major, values with
// 17 significant digits so doubles round-trip, empty past a task's target count) or safetensors
// (a float64 [T, R, Nt] tensor, NaN past a task's count, plus target_len [T]).
#include <cstdint>
#include <string>
#include <vector>

namespace artabpfn::cli {

// table[task][row][target]
using Table = std::vector<std::vector<std::vector<double>>>;

struct TableLayout {
  std::string row_label;     // "set" or "sample"
  std::string value_prefix;  // "logp_" or "y_"
  std::string tensor_name;   // "logpdf" or "samples"
};

// `out` ending in .safetensors writes that format; any other name writes CSV; empty: CSV to stdout.
void write_table(const Table& table, const TableLayout& layout, const std::string& out);

}  // namespace artabpfn::cli
