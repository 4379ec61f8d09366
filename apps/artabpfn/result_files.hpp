#pragma once
// The result files of `density` and `sample`, written and read back (by `replay`):
//   CSV: a header "task,<row>,<prefix>0,...", then one line per task and row (value set or
//        sample), task-major, values with 17 significant digits (doubles round-trip), cells past a
//        task's target count empty;
//   safetensors: a float64 tensor [T, R, Nt], NaN past a task's target count, and target_len [T].
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "jobs/table.hpp"
#include "output_file.hpp"

namespace artabpfn::cli {

using jobs::Table;

struct TableLayout {
  std::string row_label;     // "set" or "sample"
  std::string value_prefix;  // "logp_" or "y_"
  std::string tensor_name;   // "logpdf" or "samples"
};

TableLayout density_layout();
TableLayout sample_layout();

void write_table(const Table& table, const TableLayout& layout, OutputFormat format, OutputFile& out);
// The bytes write_table writes.
std::string table_bytes(const Table& table, const TableLayout& layout, OutputFormat format);
// Reads a file write_table wrote; InputError naming the file and what is wrong otherwise.
Table read_table(const std::filesystem::path& path, const TableLayout& layout, OutputFormat format);

}  // namespace artabpfn::cli
