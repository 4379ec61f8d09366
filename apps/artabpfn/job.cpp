#include "job.hpp"

#include "backend.hpp"

namespace artabpfn::cli {

JobResult run_job(const JobSpec& spec) {
  JobOptions resolved = spec.options;
  resolved.backend = resolve_backend(spec.options);
  const ModelWeights weights = load_job_weights(spec.options);
  const TaskTensors tasks = load_job_inputs(spec.options);
  JobResult result{spec.job == "sample" ? run_samples(resolved, weights, tasks, spec.samples, spec.seed)
                                        : run_density(resolved, weights, tasks),
                   resolved.backend};
  if (spec.job == "sample") write_table(result.table, {"sample", "y_", "samples"}, spec.options.out);
  else write_table(result.table, {"set", "logp_", "logpdf"}, spec.options.out);
  return result;
}

std::string precision_of(const std::string& backend, const std::string& cuda_precision) {
  if (backend == "cuda") return cuda_precision;
  if (backend == "reference-mp") return "multiprecision-50";
  return "float64";
}

}  // namespace artabpfn::cli
