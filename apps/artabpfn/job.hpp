#pragma once
// One run of `density` or `sample`: what the command line asked for, the backend that ran it,
// and its result. Shared by the job commands and `replay`.
#include <cstdint>
#include <string>

#include "command_options.hpp"
#include "result_writers.hpp"

namespace artabpfn::cli {

struct JobSpec {
  std::string job;  // "density" or "sample"
  JobOptions options;
  std::int64_t samples = 0;  // sample only
  std::uint64_t seed = 0;    // sample only
};

struct JobResult {
  Table table;
  std::string backend;  // the one that ran (after the CPU fallback)
};

// Loads weights and inputs, resolves the backend, runs, and writes the table to options.out.
JobResult run_job(const JobSpec& spec);

// "float32" (cuda), "float64" (reference) or "multiprecision-50" (reference-mp).
std::string precision_of(const std::string& backend, const std::string& cuda_precision = "float32");

}  // namespace artabpfn::cli
