#pragma once
// Options shared by the job commands, and the steps every job takes with them.
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "artabpfn/model_weights.hpp"
#include "artabpfn/task_tensors.hpp"

namespace artabpfn::cli {

struct JobOptions {
  std::string weights;
  std::string inputs;
  std::string context_csv, targets_csv;
  std::string backend = "cuda";
  std::string attention, precision;  // "": the backend's default (support_table.hpp)
  std::string out;
  std::optional<int> n_heads;
};

// --weights, --inputs (or --context and --targets CSV), --backend, --attention, --precision,
// --out, --n-heads, and a help footer with the CSV formats and the supported combinations.
void add_job_options(CLI::App& command, JobOptions& options, const std::string& job);

ModelWeights load_job_weights(const JobOptions& options);
TaskTensors load_job_inputs(const JobOptions& options, const std::string& job);
// The files a job reads (weights, then inputs), for messages and for refusing to overwrite them.
std::vector<std::string> job_input_paths(const JobOptions& options);
std::string inputs_source(const JobOptions& options);

// The bundled fixtures: --fixtures, else $ARTABPFN_FIXTURES_DIR, else the source tree's.
std::string fixtures_dir(const std::string& given);

}  // namespace artabpfn::cli
