#include "job.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "artabpfn/error.hpp"
#include "backend.hpp"
#include "manifest.hpp"
#include "memory_check.hpp"
#include "reference_backend.hpp"
#if ARTABPFN_HAS_ENGINE
#include "cuda_backend.hpp"
#endif

namespace artabpfn::cli {
namespace {

// Host memory the results take: the table (double), the backend's own copy, and the output text.
void check_result_memory(const JobSpec& spec, const TaskTensors& tasks, const Combination& asked) {
  constexpr double kTableBytes = sizeof(double), kTextBytes = 25, kRowBytes = 48;  // a CSV value; a row's vector
  const double rows = spec.job == "sample" ? double(spec.samples) : double(tasks.value_sets());
  const double targets = double(tasks.x_target.dim(1)), task_count = double(tasks.task_count());
  const double values = task_count * rows * targets;
  const double bytes = values * (kTableBytes + backend_bytes_per_value(asked) + kTextBytes) + task_count * rows * kRowBytes;
  const std::string row_label = layout_of(spec.job).row_label;
  check_memory(bytes,
               fmt::format("the results ({} task(s) x {} {}s x {} targets)", task_count, rows, row_label, targets),
               spec.job == "sample" ? "draw fewer samples per run (runs with different seeds are independent)"
                                    : "score fewer value sets per run");
}

// A NaN result means that the arithmetic overflowed (inputs and weights are finite, densities far
// outside the mixture are -inf): refused rather than written.
void refuse_nan(const JobSpec& spec, const JobResult& result, const TaskTensors& tasks) {
  const TableLayout layout = layout_of(spec.job);
  for (std::size_t t = 0; t < result.table.size(); ++t)
    for (std::size_t r = 0; r < result.table[t].size(); ++r)
      for (std::size_t i = 0; i < result.table[t][r].size(); ++i) {
        if (!std::isnan(result.table[t][r][i])) continue;
        const UsedValue largest = largest_used_value(tasks);
        throw InputError(fmt::format(
            "{}: the {} backend's result is NaN at task {}, {} {}, target {}: its {} arithmetic overflowed on these "
            "inputs or weights (the largest input is {:.6g} in {} of task {}); nothing was written",
            spec.job, result.ran.backend, t, layout.row_label, r, i, result.ran.precision, largest.value,
            largest.tensor, largest.task));
      }
}

}  // namespace

TableLayout layout_of(const std::string& job) { return job == "sample" ? sample_layout() : density_layout(); }

Combination check_job(const JobSpec& spec) {
  const JobOptions& o = spec.options;
  const Combination asked = check_combination(spec.job, o.backend, o.attention, o.precision);
  if (asked.backend != "cuda") (void)parse_reference_backend(o.backend);  // refuses one this build lacks
  if (o.inputs.empty() && (o.context_csv.empty() || o.targets_csv.empty()))
    throw InputError("give --inputs FILE.safetensors, or --context FILE.csv with --targets FILE.csv");
  return asked;
}

JobResult compute_job(const JobSpec& spec, const Combination& asked) {
  const ModelWeights weights = load_job_weights(spec.options);
  const TaskTensors tasks = load_job_inputs(spec.options, spec.job);
  const std::string source = inputs_source(spec.options);
  if (std::all_of(tasks.target_len.begin(), tasks.target_len.end(), [](std::int64_t n) { return n == 0; }))
    throw InputError(fmt::format("{}: no task has a target row: nothing to {}", source,
                                 spec.job == "density" ? "score" : "sample"));
  if (spec.job == "density" && !tasks.y_target)
    throw InputError(fmt::format("{}: no tensor 'y_target': density scores given values (y_target [T, Nt] or "
                                 "[T, R, Nt]; one task: [Nt] or [R, Nt])",
                                 source));
  check_result_memory(spec, tasks, asked);
  JobResult result{{}, resolve_backend(asked)};
#if ARTABPFN_HAS_ENGINE
  if (result.ran.backend == "cuda") check_float32_range(tasks, source);
#endif
  result.table = spec.job == "sample" ? run_samples(result.ran, weights, tasks, spec.samples, spec.seed)
                                      : run_density(result.ran, weights, tasks);
  refuse_nan(spec, result, tasks);
  return result;
}

JobResult run_job(const JobSpec& spec, const std::string& command_line) {
  const Combination asked = check_job(spec);
  const std::string& out = spec.options.out;
  const OutputFormat format = output_format(out, "--out");
  std::optional<OutputFile> manifest;
  if (!out.empty()) {
    refuse_overwriting_inputs(out, job_input_paths(spec.options), "--out");
    refuse_overwriting_inputs(manifest_path_for(out), job_input_paths(spec.options), "--out's manifest");
  }
  OutputFile output(out);
  if (!out.empty()) manifest.emplace(manifest_path_for(out));
  JobResult result = compute_job(spec, asked);
  write_table(result.table, layout_of(spec.job), format, output);
  output.commit();
  if (manifest) {
    write_manifest(spec, result, command_line, *manifest);
    manifest->commit();
  }
  return result;
}

}  // namespace artabpfn::cli
