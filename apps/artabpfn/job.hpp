#pragma once
// One run of `density` or `sample`: what the command line asked for, the backend that ran it,
// and its result. Shared by the job commands and `replay`.
//
// Order of a run, so that bad arguments and unwritable outputs fail before any long work and the
// no-GPU notice comes once, after them: the option combination (support_table.hpp), the output
// paths (output_file.hpp), weights and inputs, the memory the results need, the backend (notice),
// the run, and a last check that no result is NaN.
#include <cstdint>
#include <string>

#include "command_options.hpp"
#include "result_files.hpp"
#include "support_table.hpp"

namespace artabpfn::cli {

struct JobSpec {
  std::string job;  // "density" or "sample"
  JobOptions options;
  std::int64_t samples = 0;  // sample only
  std::uint64_t seed = 0;    // sample only
};

struct JobResult {
  Table table;
  Combination ran;  // after the CPU fallback
};

// The combination asked for, checked (InputError otherwise), and that inputs are given.
Combination check_job(const JobSpec& spec);
// Loads, runs on `asked` (or the fallback) and checks the result; writes nothing.
JobResult compute_job(const JobSpec& spec, const Combination& asked);
// check_job, the output paths, compute_job, then options.out (stdout when empty) and, for a
// file, its manifest.
JobResult run_job(const JobSpec& spec, const std::string& command_line);

TableLayout layout_of(const std::string& job);

}  // namespace artabpfn::cli
