// One task from a context CSV and a targets CSV (csv_task.hpp).
#include <fmt/format.h>

#include "artabpfn/csv_task.hpp"
#include "artabpfn/error.hpp"

namespace artabpfn {
namespace {

std::string targets_format(CsvTargets targets_hold) {
  return targets_hold == CsvTargets::kFeaturesAndValue ? "x_0..x_{F-1},y (the values to score, as in the context)"
                                                       : "x_0..x_{F-1} (features only)";
}

}  // namespace

TaskTensors csv_task(const CsvTable& context, const std::string& context_source, const CsvTable& targets,
                     const std::string& targets_source, CsvTargets targets_hold, const NoticeSink& notices) {
  const std::int64_t value_columns = targets_hold == CsvTargets::kFeaturesAndValue ? 1 : 0;
  if (targets.rows == 0)
    throw InputError(fmt::format("{}: no target rows{}", targets_source, targets.header.empty() ? "" : " (only a header)"));
  const std::int64_t features = targets.columns - value_columns;
  if (features < 1)
    throw InputError(fmt::format("{}: {} column(s), but target rows are {}: at least {} columns", targets_source,
                                 targets.columns, targets_format(targets_hold), value_columns + 1));
  if (context.columns != 0 && context.columns != features + 1)
    throw InputError(fmt::format(
        "{} has {} column(s) and {} has {}: context rows are x_0..x_{{F-1}},y and target rows are {}, so the "
        "context needs {} columns for these targets' F = {}",
        context_source, context.columns, targets_source, targets.columns, targets_format(targets_hold), features + 1,
        features));
  if (context.rows == 0)
    (notices ? notices : stderr_notices())(fmt::format("{}: no data rows{}: the task has an empty context (Nc = 0)", context_source,
                        context.header.empty() ? "" : " (only a header)"));

  const std::int64_t nc = context.rows, nt = targets.rows;
  const auto at = [](const CsvTable& t, std::int64_t row, std::int64_t column) {
    return t.values[static_cast<std::size_t>(row * t.columns + column)];
  };
  TaskTensors t;
  t.x_context = HostTensor<double>({1, nc, features});
  t.y_context = HostTensor<double>({1, nc});
  t.x_target = HostTensor<double>({1, nt, features});
  for (std::int64_t i = 0; i < nc; ++i) {
    for (std::int64_t f = 0; f < features; ++f) t.x_context.data[static_cast<std::size_t>(i * features + f)] = at(context, i, f);
    t.y_context.data[static_cast<std::size_t>(i)] = at(context, i, features);
  }
  for (std::int64_t i = 0; i < nt; ++i)
    for (std::int64_t f = 0; f < features; ++f) t.x_target.data[static_cast<std::size_t>(i * features + f)] = at(targets, i, f);
  if (targets_hold == CsvTargets::kFeaturesAndValue) {
    t.y_target = HostTensor<double>({1, 1, nt});
    for (std::int64_t i = 0; i < nt; ++i) t.y_target->data[static_cast<std::size_t>(i)] = at(targets, i, features);
  }
  return validate_task_tensors(std::move(t), context_source + " + " + targets_source);
}

TaskTensors load_csv_task(const std::filesystem::path& context, const std::filesystem::path& targets,
                          CsvTargets targets_hold, const NoticeSink& notices) {
  return csv_task(read_csv_table(context), context.string(), read_csv_table(targets), targets.string(), targets_hold,
                  notices);
}

}  // namespace artabpfn
