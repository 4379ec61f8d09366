#include "command_options.hpp"

#include <cstdlib>

#include "artabpfn/error.hpp"
#include "artabpfn/weights_loader.hpp"
#include "commands.hpp"
#include "csv_inputs.hpp"

namespace artabpfn::cli {

void add_job_options(CLI::App& command, JobOptions& options) {
  command.add_option("--weights", options.weights, "state_dict of ARTabPFN saved with safetensors")
      ->required()
      ->check(CLI::ExistingFile);
  auto* inputs = command.add_option("--inputs", options.inputs,
                                    "safetensors with x_context, y_context, x_target[, y_target, context_len, target_len]")
                     ->check(CLI::ExistingFile);
  auto* context = command.add_option("--context", options.context_csv, "CSV of context rows x_0..x_{F-1},y")
                      ->check(CLI::ExistingFile);
  auto* targets = command.add_option("--targets", options.targets_csv, "CSV of target rows x_0..x_{F-1}")
                      ->check(CLI::ExistingFile);
  context->needs(targets);
  targets->needs(context);
  inputs->excludes(context);
  command.add_option("--backend", options.backend,
                     "cuda (float32 engine; the CPU reference where no GPU is usable), reference (double) or "
                     "reference-mp (50 digits)")
      ->check(CLI::IsMember({"cuda", "reference", "reference-mp"}));
  command.add_option("--attention", options.attention,
                     "cuda attention: fused (one online softmax), split (context + buffer + merge) or reencode "
                     "(the baseline that re-encodes context and earlier targets at every step)")
      ->check(CLI::IsMember({"fused", "split", "reencode"}));
  command.add_option("--precision", options.precision,
                     "cuda density: float32 (the engine's kernels) or mixed (double activations and sums over the "
                     "float32 weights and K/V caches: ~10x more accurate, slower; sample runs float32 only)")
      ->check(CLI::IsMember({"float32", "mixed"}));
  command.add_option("--out", options.out, "FILE.csv or FILE.safetensors (default: CSV on stdout)");
  command.add_option("--n-heads", options.n_heads, "attention heads, when the weights' metadata lacks n_heads")
      ->check(CLI::PositiveNumber);
}

ModelWeights load_job_weights(const JobOptions& options) {
  return load_weights(options.weights, {options.n_heads, {}});
}

TaskTensors load_job_inputs(const JobOptions& options) {
  if (!options.inputs.empty()) return load_task_tensors(options.inputs);
  if (!options.context_csv.empty()) return read_csv_task(options.context_csv, options.targets_csv);
  throw InputError("give --inputs FILE.safetensors or --context FILE.csv --targets FILE.csv");
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
