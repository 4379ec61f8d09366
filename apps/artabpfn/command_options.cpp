#include "command_options.hpp"

#include <fmt/format.h>

#include <climits>
#include <cstdlib>

#include "artabpfn/csv_task.hpp"
#include "artabpfn/error.hpp"
#include "artabpfn/weights_loader.hpp"
#include "commands.hpp"
#include "jobs/support_table.hpp"
#include "value_checks.hpp"

namespace artabpfn::cli {
namespace {

std::string csv_help(const std::string& job) {
  return fmt::format(
      "CSV inputs (one task): --context rows x_0,...,x_{{F-1}},y; --targets rows {}. Cells are numbers separated "
      "by commas; the first line is a header when none of its cells is a number; NaN and Inf are refused; a "
      "context without data rows is an empty context (Nc = 0).",
      job == "density" ? "x_0,...,x_{F-1},y (the values to score)" : "x_0,...,x_{F-1}");
}

}  // namespace

void add_job_options(CLI::App& command, JobOptions& options, const std::string& job) {
  command.add_option("--weights", options.weights, "state_dict of ARTabPFN saved with safetensors")
      ->required()
      ->check(CLI::ExistingFile);
  auto* inputs = command
                     .add_option("--inputs", options.inputs,
                                 job == "density" ? "safetensors with x_context, y_context, x_target, y_target[, "
                                                    "context_len, target_len]"
                                                  : "safetensors with x_context, y_context, x_target[, context_len, "
                                                    "target_len]")
                     ->check(CLI::ExistingFile);
  auto* context = command.add_option("--context", options.context_csv, "CSV of context rows x_0,...,x_{F-1},y")
                      ->check(CLI::ExistingFile);
  auto* targets = command
                      .add_option("--targets", options.targets_csv,
                                  job == "density" ? "CSV of target rows x_0,...,x_{F-1},y" : "CSV of target rows x_0,...,x_{F-1}")
                      ->check(CLI::ExistingFile);
  context->needs(targets);
  targets->needs(context);
  inputs->excludes(context);
  inputs->excludes(targets);
  command.add_option("--backend", options.backend,
                     "cuda: the float32 engine (where no GPU is usable, the CPU reference in double runs instead, "
                     "with a notice); cpu: the engine's arithmetic of --precision run on the CPU (never falls back); "
                     "reference: the CPU reference in double; reference-mp: the CPU reference in "
                     "50-digit multiprecision, about 1000x slower than reference (about 75 s per task of the bundled "
                     "paper fixture; progress on a terminal)")
      ->check(CLI::IsMember(jobs::backends()));
  command.add_option("--attention", options.attention,
                     "cuda only: fused (one online softmax, the default), split (context + buffer + merge) or "
                     "reencode (the baseline that re-encodes context and earlier targets at every step)")
      ->check(CLI::IsMember(jobs::attention_modes()));
  command.add_option("--precision", options.precision,
                     job == "density" ? "cuda: float32 (the default) or mixed (double activations and sums over the "
                                        "float32 weights and K/V caches: ~10x more accurate, slower); cpu: float32 "
                                        "(the default), tf32 (TF32 product operands) or tf32x3 (split TF32 products); "
                                        "reference: float64; reference-mp: multiprecision-50"
                                      : "cuda: float32; cpu: float32 (the default), tf32 or tf32x3; reference: "
                                        "float64; reference-mp: multiprecision-50")
      ->check(CLI::IsMember(jobs::precisions()));
  command.add_option("--out", options.out,
                     "FILE.csv or FILE.safetensors, written whole or not at all, with FILE.manifest.json for replay "
                     "(default: CSV on standard output)");
  command.add_option("--n-heads", options.n_heads, "attention heads, when the weights' metadata lacks n_heads")
      ->check(integer_in(1, INT_MAX));
  command.footer(fmt::format("{}\n\nWhat goes together (checked before any work, with or without a GPU):\n{}",
                             csv_help(job), jobs::combinations_help(job)));
}

ModelWeights load_job_weights(const JobOptions& options) {
  return load_weights(options.weights, {options.n_heads, {}});
}

TaskTensors load_job_inputs(const JobOptions& options, const std::string& job) {
  if (!options.inputs.empty()) return load_task_tensors(options.inputs);
  return load_csv_task(options.context_csv, options.targets_csv,
                       job == "density" ? CsvTargets::kFeaturesAndValue : CsvTargets::kFeaturesOnly, {});
}

std::vector<std::string> job_input_paths(const JobOptions& options) {
  return {options.weights, options.inputs, options.context_csv, options.targets_csv};
}

std::string inputs_source(const JobOptions& options) {
  return options.inputs.empty() ? options.context_csv + " + " + options.targets_csv : options.inputs;
}

std::string command_line(const CLI::App& command) {
  std::string line = "artabpfn " + command.get_name();
  for (const CLI::Option* option : command.get_options()) {
    if (option->count() == 0 || option->get_name() == "--help") continue;
    for (const std::string& value : option->results()) line.append(" ").append(option->get_name()).append(" ").append(value);
  }
  return line;
}

std::string fixtures_dir(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("ARTABPFN_FIXTURES_DIR"); env && *env) return env;
  return ARTABPFN_DEFAULT_FIXTURES_DIR;
}

}  // namespace artabpfn::cli
