#include "jobs/job.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "artabpfn/error.hpp"
#include "jobs/backend.hpp"
#include "jobs/float32_range.hpp"
#include "jobs/memory_check.hpp"
#include "jobs/reference_backend.hpp"

namespace artabpfn::jobs {
namespace {

bool is_sample(const JobRequest& request) { return request.asked.job == "sample"; }

// Host memory the results take: the table (double), the backend's own copy, and the output text.
void check_result_memory(const JobRequest& request, const TaskTensors& tasks) {
  constexpr double kTableBytes = sizeof(double), kTextBytes = 25, kRowBytes = 48;  // a CSV value; a row's vector
  const double rows = is_sample(request) ? double(request.samples) : double(tasks.value_sets());
  const double targets = double(tasks.x_target.dim(1)), task_count = double(tasks.task_count());
  const double values = task_count * rows * targets;
  const double bytes =
      values * (kTableBytes + backend_bytes_per_value(request.asked) + kTextBytes) + task_count * rows * kRowBytes;
  check_memory(bytes,
               fmt::format("the results ({} task(s) x {} {}s x {} targets)", task_count, rows,
                           is_sample(request) ? "sample" : "set", targets),
               is_sample(request) ? "draw fewer samples per run (runs with different seeds are independent)"
                                  : "score fewer value sets per run");
}

// A NaN result means that the arithmetic overflowed (inputs and weights are finite, densities far
// outside the mixture are -inf): refused rather than returned.
void refuse_nan(const JobRequest& request, const JobResult& result, const TaskTensors& tasks) {
  for (std::size_t t = 0; t < result.table.size(); ++t)
    for (std::size_t r = 0; r < result.table[t].size(); ++r)
      for (std::size_t i = 0; i < result.table[t][r].size(); ++i) {
        if (!std::isnan(result.table[t][r][i])) continue;
        const UsedValue largest = largest_used_value(tasks);
        throw InputError(fmt::format(
            "{}: the {} backend's result is NaN at task {}, {} {}, target {}: its {} arithmetic overflowed on these "
            "inputs or weights (the largest input is {:.6g} in {} of task {}); nothing was written",
            request.asked.job, result.ran.backend, t, is_sample(request) ? "sample" : "set", r, i, result.ran.precision,
            largest.value, largest.tensor, largest.task));
      }
}

}  // namespace

Combination check_job_settings(const std::string& job, const std::string& backend, const std::string& attention,
                               const std::string& precision) {
  const Combination asked = check_combination(job, backend, attention, precision);
  if (asked.backend.starts_with("reference")) (void)parse_reference_backend(backend);  // refuses one this build lacks
  return asked;
}

JobResult run_job(const JobRequest& request, const ModelWeights& weights, const TaskTensors& tasks) {
  if (std::all_of(tasks.target_len.begin(), tasks.target_len.end(), [](std::int64_t n) { return n == 0; }))
    throw InputError(fmt::format("{}: no task has a target row: nothing to {}", request.source,
                                 is_sample(request) ? "sample" : "score"));
  if (!is_sample(request) && !tasks.y_target)
    throw InputError(
        fmt::format("{}: no tensor 'y_target': density scores given values (y_target [T, Nt] or "
                    "[T, R, Nt]; one task: [Nt] or [R, Nt])",
                    request.source));
  check_result_memory(request, tasks);
  JobResult result{{}, resolve_backend(request.asked, request.notices)};
  if (result.ran.backend == "cuda" || result.ran.backend == "cpu")
    check_float32_range(tasks, request.source, result.ran.backend);
  result.table = is_sample(request)
                     ? run_samples(result.ran, weights, tasks, request.samples, request.seed, request.progress)
                     : run_density(result.ran, weights, tasks, request.progress);
  refuse_nan(request, result, tasks);
  return result;
}

}  // namespace artabpfn::jobs
