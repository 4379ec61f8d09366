// Fuzzes the CSV task reader: the input, cut at its first 0xFF byte into a context and a targets
// text (the whole input for both when there is none), must either parse or throw InputError, and
// every task built from two tables that parse must be one of finite values with agreeing shapes or
// an InputError, for both jobs' target formats. Anything else (a crash, a sanitizer report, another
// exception type, a non-finite value let through) is a bug.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "artabpfn/csv_task.hpp"
#include "artabpfn/error.hpp"

namespace {

void expect_finite(const artabpfn::HostTensor<double>& t) {
  for (const double v : t.data)
    if (!std::isfinite(v)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace artabpfn;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t cut = text.find('\xff');
  const std::string_view context_text = text.substr(0, cut);
  const std::string_view targets_text = cut == std::string_view::npos ? text : text.substr(cut + 1);
  CsvTable context, targets;
  try {
    context = parse_csv_table(context_text, "context.csv");
    targets = parse_csv_table(targets_text, "targets.csv");
  } catch (const InputError&) {
    return 0;
  }
  for (const CsvTargets kind : {CsvTargets::kFeaturesAndValue, CsvTargets::kFeaturesOnly}) {
    try {
      const TaskTensors task = csv_task(context, "context.csv", targets, "targets.csv", kind, [](const std::string&) {});
      expect_finite(task.x_context);
      expect_finite(task.y_context);
      expect_finite(task.x_target);
      if (task.y_target) expect_finite(*task.y_target);
      if (task.x_context.dim(2) != task.x_target.dim(2) || task.x_target.dim(1) != targets.rows) __builtin_trap();
    } catch (const InputError&) {
    }
  }
  return 0;
}
