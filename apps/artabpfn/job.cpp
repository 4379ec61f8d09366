#include "job.hpp"

#include <optional>

#include "artabpfn/error.hpp"
#include "manifest.hpp"

namespace artabpfn::cli {

TableLayout layout_of(const std::string& job) { return job == "sample" ? sample_layout() : density_layout(); }

jobs::Combination check_job(const JobSpec& spec) {
  const JobOptions& o = spec.options;
  const jobs::Combination asked = jobs::check_job_settings(spec.job, o.backend, o.attention, o.precision);
  if (o.inputs.empty() && (o.context_csv.empty() || o.targets_csv.empty()))
    throw InputError("give --inputs FILE.safetensors, or --context FILE.csv with --targets FILE.csv");
  return asked;
}

jobs::JobResult compute_job(const JobSpec& spec, const jobs::Combination& asked) {
  const ModelWeights weights = load_job_weights(spec.options);
  const TaskTensors tasks = load_job_inputs(spec.options, spec.job);
  jobs::JobRequest request{asked, spec.samples, spec.seed, inputs_source(spec.options), {}, {}};
  return jobs::run_job(request, weights, tasks);
}

jobs::JobResult run_job(const JobSpec& spec, const std::string& command_line) {
  const jobs::Combination asked = check_job(spec);
  const std::string& out = spec.options.out;
  const OutputFormat format = output_format(out, "--out");
  std::optional<OutputFile> manifest;
  if (!out.empty()) {
    refuse_overwriting_inputs(out, job_input_paths(spec.options), "--out");
    refuse_overwriting_inputs(manifest_path_for(out), job_input_paths(spec.options), "--out's manifest");
  }
  OutputFile output(out);
  if (!out.empty()) manifest.emplace(manifest_path_for(out));
  jobs::JobResult result = compute_job(spec, asked);
  write_table(result.table, layout_of(spec.job), format, output);
  output.commit();
  if (manifest) {
    write_manifest(spec, result, command_line, *manifest);
    manifest->commit();
  }
  return result;
}

}  // namespace artabpfn::cli
