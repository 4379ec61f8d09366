#pragma once
// One run of `density` or `sample`: what the command line asked for, the backend that ran it,
// and its result. Shared by the job commands and `replay`.
//
// Order of a run, so that bad arguments and unwritable outputs fail before any long work and the
// no-GPU notice comes once, after them: the option combination (jobs/support_table.hpp), the
// output paths (output_file.hpp), weights and inputs, then jobs::run_job (the results' memory,
// the backend and its notice, the run, the NaN check).
#include <cstdint>
#include <string>

#include "command_options.hpp"
#include "jobs/job.hpp"
#include "result_files.hpp"

namespace artabpfn::cli {

struct JobSpec {
  std::string job;  // "density" or "sample"
  JobOptions options;
  std::int64_t samples = 0;  // sample only
  std::uint64_t seed = 0;    // sample only
};

// The combination asked for, checked (InputError otherwise), and that inputs are given.
jobs::Combination check_job(const JobSpec& spec);
// Loads, runs on `asked` (or the fallback) and checks the result; writes nothing.
jobs::JobResult compute_job(const JobSpec& spec, const jobs::Combination& asked);
// check_job, the output paths, compute_job, then options.out (stdout when empty) and, for a
// file, its manifest.
jobs::JobResult run_job(const JobSpec& spec, const std::string& command_line);

TableLayout layout_of(const std::string& job);

}  // namespace artabpfn::cli
