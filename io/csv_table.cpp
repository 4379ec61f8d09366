// Parsing a CSV table of numbers (csv_task.hpp: cells, the header rule, error locations).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "artabpfn/csv_task.hpp"
#include "artabpfn/error.hpp"

namespace artabpfn {
namespace {

constexpr std::size_t kReportedProblems = 10;  // bad cells listed in one error; the rest are counted

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A cell as written, shortened for messages.
std::string quoted(std::string_view cell) {
  constexpr std::size_t kShown = 40;
  return cell.size() <= kShown ? fmt::format("'{}'", cell) : fmt::format("'{}...'", cell.substr(0, kShown));
}

struct Cell {
  enum Kind { kNumber, kText, kNonFinite, kOutOfRange } kind;
  double value = 0;
};

Cell parse_cell(std::string_view cell) {
  std::string_view digits = cell;
  // from_chars takes no '+': one plus sign before a digit or a point is allowed.
  if (digits.size() > 1 && digits[0] == '+' && digits[1] != '+' && digits[1] != '-') digits.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || end != digits.data() + digits.size() || ec == std::errc::invalid_argument)
    return {Cell::kText};
  if (ec == std::errc::result_out_of_range) {
    // Beyond a double's range is refused; below its smallest subnormal rounds to zero, as strtod does.
    const std::string copy(digits);
    value = std::strtod(copy.c_str(), nullptr);
    return std::isinf(value) ? Cell{Cell::kOutOfRange} : Cell{Cell::kNumber, value};
  }
  if (!std::isfinite(value)) return {Cell::kNonFinite};
  return {Cell::kNumber, value};
}

std::vector<std::string_view> split_cells(std::string_view line) {
  std::vector<std::string_view> cells;
  for (std::size_t start = 0;;) {
    const std::size_t comma = line.find(',', start);
    cells.push_back(trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) return cells;
    start = comma + 1;
  }
}

class Problems {
 public:
  explicit Problems(std::string source) : source_(std::move(source)) {}
  void add(std::int64_t line, std::int64_t column, const std::string& what) {
    if (++count_ <= kReportedProblems) text_ += fmt::format("\n  {}:{}:{}: {}", source_, line, column, what);
  }
  void add_line(std::int64_t line, const std::string& what) {
    if (++count_ <= kReportedProblems) text_ += fmt::format("\n  {}:{}: {}", source_, line, what);
  }
  void throw_if_any() const {
    if (count_ == 0) return;
    std::string more = count_ > kReportedProblems ? fmt::format("\n  and {} more", count_ - kReportedProblems) : "";
    throw InputError(fmt::format("{}: {} bad cell(s) or line(s):{}{}", source_, count_, text_, more));
  }

 private:
  std::string source_, text_;
  std::size_t count_ = 0;
};

std::string describe(const Cell& cell, std::string_view text) {
  switch (cell.kind) {
    case Cell::kText: return text.empty() ? "empty cell" : quoted(text) + " is not a number";
    case Cell::kNonFinite: return quoted(text) + " is not finite (NaN and Inf are refused)";
    case Cell::kOutOfRange: return quoted(text) + " is beyond the range of a double";
    case Cell::kNumber: break;
  }
  return {};
}

}  // namespace

CsvTable parse_csv_table(std::string_view text, const std::string& source) {
  CsvTable table;
  Problems problems(source);
  std::int64_t first_line = 0;  // the line whose cell count every row must have
  std::int64_t number = 0;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t newline = text.find('\n', start);
    std::string_view line = text.substr(start, newline == std::string_view::npos ? std::string_view::npos : newline - start);
    start = newline == std::string_view::npos ? text.size() : newline + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) continue;
    const std::vector<std::string_view> cells = split_cells(line);
    const auto count = static_cast<std::int64_t>(cells.size());
    std::vector<Cell> parsed;
    for (const std::string_view cell : cells) parsed.push_back(parse_cell(cell));
    if (first_line == 0) {
      first_line = number;
      table.columns = count;
      const auto texts = std::count_if(parsed.begin(), parsed.end(), [](const Cell& c) { return c.kind == Cell::kText; });
      if (texts == count) {  // a header
        for (const std::string_view cell : cells) table.header.emplace_back(cell);
        continue;
      }
      if (texts > 0) {
        for (std::size_t c = 0; c < cells.size(); ++c)
          if (parsed[c].kind == Cell::kText)
            problems.add(number, std::int64_t(c) + 1,
                         describe(parsed[c], cells[c]) + " (a first line is a header only when none of its cells is a number)");
        continue;
      }
    } else if (count != table.columns) {
      problems.add_line(number, fmt::format("{} cells where line {}{} has {}", count, first_line,
                                            table.header.empty() ? "" : " (the header)", table.columns));
      continue;
    }
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (parsed[c].kind == Cell::kNumber) table.values.push_back(parsed[c].value);
      else problems.add(number, std::int64_t(c) + 1, describe(parsed[c], cells[c]));
    }
    ++table.rows;
  }
  problems.throw_if_any();
  return table;
}

CsvTable read_csv_table(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(path.string() + ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot open for reading");
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw InputError(path.string() + ": read error");
  return parse_csv_table(text, path.string());
}

}  // namespace artabpfn
