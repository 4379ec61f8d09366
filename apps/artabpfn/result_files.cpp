#include "result_files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <limits>

#include "artabpfn/error.hpp"
#include "artabpfn/safetensors.hpp"

namespace artabpfn::cli {
namespace {

constexpr std::size_t kCsvChunkBytes = 1 << 20;  // CSV text is handed on in chunks of about this size

std::size_t max_targets(const Table& table) {
  std::size_t n = 0;
  for (const auto& task : table)
    for (const auto& row : task) n = std::max(n, row.size());
  return n;
}

template <class Sink>
void write_csv(const Table& table, const TableLayout& layout, Sink&& sink) {
  fmt::memory_buffer text;
  const auto flush = [&] {
    sink(std::string_view(text.data(), text.size()));
    text.clear();
  };
  const std::size_t nt = max_targets(table);
  fmt::format_to(std::back_inserter(text), "task,{}", layout.row_label);
  for (std::size_t t = 0; t < nt; ++t) fmt::format_to(std::back_inserter(text), ",{}{}", layout.value_prefix, t);
  text.push_back('\n');
  for (std::size_t task = 0; task < table.size(); ++task)
    for (std::size_t r = 0; r < table[task].size(); ++r) {
      fmt::format_to(std::back_inserter(text), "{},{}", task, r);
      for (std::size_t t = 0; t < nt; ++t) {
        if (t < table[task][r].size()) fmt::format_to(std::back_inserter(text), ",{:.17g}", table[task][r][t]);
        else text.push_back(',');
      }
      text.push_back('\n');
      if (text.size() >= kCsvChunkBytes) flush();
    }
  flush();
}

std::vector<std::byte> safetensors_bytes(const Table& table, const TableLayout& layout) {
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
  return writer.to_bytes();
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot open for reading");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Table read_csv(const std::filesystem::path& path, const TableLayout& layout) {
  const std::string text = read_text(path);
  Table table;
  std::size_t line_number = 0;
  const auto fail = [&](const std::string& what) {
    throw InputError(fmt::format("{}:{}: {}", path.string(), line_number, what));
  };
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line(text.data() + start, end - start);
    start = end + 1;
    ++line_number;
    std::vector<std::string_view> cells;
    for (std::size_t from = 0;;) {
      const std::size_t comma = std::min(line.find(',', from), line.size());
      cells.push_back(line.substr(from, comma - from));
      if (comma == line.size()) break;
      from = comma + 1;
    }
    if (line_number == 1) {
      if (cells.size() < 2 || cells[0] != "task" || cells[1] != layout.row_label)
        fail(fmt::format("not the header of a result file (task,{},{}0,...)", layout.row_label, layout.value_prefix));
      continue;
    }
    std::size_t task = 0, row = 0;
    const auto index = [&](std::string_view cell, std::size_t& value) {
      const auto [last, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
      return ec == std::errc() && last == cell.data() + cell.size() && !cell.empty();
    };
    if (cells.size() < 2 || !index(cells[0], task) || !index(cells[1], row)) fail("expected task and row numbers");
    if (task == table.size()) table.emplace_back();
    if (task + 1 != table.size() || row != table[task].size())
      fail(fmt::format("task {} row {} out of order", task, row));
    std::vector<double>& values = table[task].emplace_back();
    for (std::size_t c = 2; c < cells.size() && !cells[c].empty(); ++c) {
      double v = 0;
      const auto [last, ec] = std::from_chars(cells[c].data(), cells[c].data() + cells[c].size(), v);
      if (ec != std::errc() || last != cells[c].data() + cells[c].size())
        fail(fmt::format("column {}: '{}' is not a number", c + 1, cells[c]));
      values.push_back(v);
    }
  }
  if (line_number == 0) throw InputError(path.string() + ": empty");
  return table;
}

Table read_safetensors(const std::filesystem::path& path, const TableLayout& layout) {
  const safetensors::File file = safetensors::File::read(path);
  const HostTensor<double> values = file.to_f64(layout.tensor_name);
  const HostTensor<std::int64_t> target_len = file.to_i64("target_len");
  if (values.rank() != 3 || target_len.rank() != 1 || target_len.dim(0) != values.dim(0))
    throw InputError(fmt::format("{}: {} {} and target_len {} are not [T, R, Nt] and [T]", path.string(),
                                 layout.tensor_name, shape_to_string(values.shape), shape_to_string(target_len.shape)));
  const std::int64_t tasks = values.dim(0), rows = values.dim(1), nt = values.dim(2);
  Table table(static_cast<std::size_t>(tasks));
  for (std::int64_t task = 0; task < tasks; ++task) {
    const std::int64_t len = target_len.data[std::size_t(task)];
    if (len < 0 || len > nt) throw InputError(fmt::format("{}: target_len {} of task {} is outside 0..{}", path.string(), len, task, nt));
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto first = values.data.begin() + (task * rows + r) * nt;
      table[std::size_t(task)].emplace_back(first, first + len);
    }
  }
  return table;
}

}  // namespace

TableLayout density_layout() { return {"set", "logp_", "logpdf"}; }
TableLayout sample_layout() { return {"sample", "y_", "samples"}; }

void write_table(const Table& table, const TableLayout& layout, OutputFormat format, OutputFile& out) {
  if (format == OutputFormat::kCsv) return write_csv(table, layout, [&](std::string_view chunk) { out.write(chunk); });
  const std::vector<std::byte> bytes = safetensors_bytes(table, layout);
  out.write(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string table_bytes(const Table& table, const TableLayout& layout, OutputFormat format) {
  std::string text;
  if (format == OutputFormat::kCsv) {
    write_csv(table, layout, [&](std::string_view chunk) { text += chunk; });
    return text;
  }
  const std::vector<std::byte> bytes = safetensors_bytes(table, layout);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Table read_table(const std::filesystem::path& path, const TableLayout& layout, OutputFormat format) {
  return format == OutputFormat::kCsv ? read_csv(path, layout) : read_safetensors(path, layout);
}

}  // namespace artabpfn::cli
