#include "result_writers.hpp"

#include <fmt/format.h>
#include <fmt/os.h>

#include <algorithm>
#include <cstdio>
#include <limits>

#include "artabpfn/error.hpp"
#include "artabpfn/safetensors.hpp"

namespace artabpfn::cli {
namespace {

std::size_t max_targets(const Table& table) {
  std::size_t n = 0;
  for (const auto& task : table)
    for (const auto& row : task) n = std::max(n, row.size());
  return n;
}

std::string csv(const Table& table, const TableLayout& layout) {
  const std::size_t nt = max_targets(table);
  std::string text = "task," + layout.row_label;
  for (std::size_t t = 0; t < nt; ++t) text += fmt::format(",{}{}", layout.value_prefix, t);
  text += '\n';
  for (std::size_t task = 0; task < table.size(); ++task)
    for (std::size_t r = 0; r < table[task].size(); ++r) {
      text += fmt::format("{},{}", task, r);
      for (std::size_t t = 0; t < nt; ++t)
        text += t < table[task][r].size() ? fmt::format(",{:.17g}", table[task][r][t]) : std::string(",");
      text += '\n';
    }
  return text;
}

void write_safetensors(const Table& table, const TableLayout& layout, const std::string& path) {
  const std::size_t nt = max_targets(table), rows = table.empty() ? 0 : table[0].size();
  HostTensor<double> values({std::int64_t(table.size()), std::int64_t(rows), std::int64_t(nt)});
  std::fill(values.data.begin(), values.data.end(), std::numeric_limits<double>::quiet_NaN());
  HostTensor<std::int64_t> target_len({std::int64_t(table.size())});
  for (std::size_t task = 0; task < table.size(); ++task) {
    target_len.data[task] = table[task].empty() ? 0 : std::int64_t(table[task][0].size());
    for (std::size_t r = 0; r < table[task].size(); ++r)
      std::copy(table[task][r].begin(), table[task][r].end(), values.data.begin() + std::ptrdiff_t((task * rows + r) * nt));
  }
  safetensors::Writer writer;
  writer.add(layout.tensor_name, values);
  writer.add("target_len", target_len);
  writer.write(path);
}

}  // namespace

void write_table(const Table& table, const TableLayout& layout, const std::string& out) {
  if (out.size() > 12 && out.ends_with(".safetensors")) return write_safetensors(table, layout, out);
  const std::string text = csv(table, layout);
  if (out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return;
  }
  std::FILE* f = std::fopen(out.c_str(), "wb");
  if (!f) throw InputError(fmt::format("cannot write '{}'", out));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) throw InputError(fmt::format("writing '{}' failed", out));
}

}  // namespace artabpfn::cli
