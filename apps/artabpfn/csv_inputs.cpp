#include "csv_inputs.hpp"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include "artabpfn/error.hpp"

namespace artabpfn::cli {
namespace {

using Rows = std::vector<std::vector<double>>;

bool parse_number(const std::string& cell, double& value) {
  const char* first = cell.data();
  const char* last = first + cell.size();
  while (first < last && *first == ' ') ++first;
  while (last > first && last[-1] == ' ') --last;
  const auto [end, ec] = std::from_chars(first, last, value);
  return ec == std::errc() && end == last && first != last;
}

Rows read_rows(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("cannot open '{}'", path));
  Rows rows;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<double> row;
    std::stringstream cells(line);
    std::string cell;
    bool numeric = true;
    for (int column = 1; std::getline(cells, cell, ','); ++column) {
      double v = 0;
      if (!parse_number(cell, v)) {
        if (number == 1) { numeric = false; break; }  // a header line
        throw InputError(fmt::format("{}:{}: column {} is not a number: '{}'", path, number, column, cell));
      }
      row.push_back(v);
    }
    if (!numeric) continue;
    if (!rows.empty() && row.size() != rows[0].size())
      throw InputError(fmt::format("{}:{}: {} columns where earlier lines have {}", path, number, row.size(), rows[0].size()));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

TaskTensors read_csv_task(const std::string& context_csv, const std::string& targets_csv) {
  const Rows context = read_rows(context_csv), targets = read_rows(targets_csv);
  if (targets.empty()) throw InputError(fmt::format("{}: no target rows", targets_csv));
  const std::int64_t features = std::int64_t(targets[0].size());
  if (!context.empty() && std::int64_t(context[0].size()) != features + 1)
    throw InputError(fmt::format("{}: {} columns, expected {} features plus y as in {}", context_csv, context[0].size(),
                                 features, targets_csv));
  const std::int64_t nc = std::int64_t(context.size()), nt = std::int64_t(targets.size());
  TaskTensors t;
  t.x_context = HostTensor<double>({1, nc, features});
  t.y_context = HostTensor<double>({1, nc});
  t.x_target = HostTensor<double>({1, nt, features});
  for (std::int64_t i = 0; i < nc; ++i) {
    for (std::int64_t f = 0; f < features; ++f) t.x_context.data[std::size_t(i * features + f)] = context[std::size_t(i)][std::size_t(f)];
    t.y_context.data[std::size_t(i)] = context[std::size_t(i)][std::size_t(features)];
  }
  for (std::int64_t i = 0; i < nt; ++i)
    for (std::int64_t f = 0; f < features; ++f) t.x_target.data[std::size_t(i * features + f)] = targets[std::size_t(i)][std::size_t(f)];
  return validate_task_tensors(std::move(t), context_csv + " + " + targets_csv);
}

}  // namespace artabpfn::cli
