#pragma once
// Options shared by the job commands, and the steps every job takes with them.
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "artabpfn/model_weights.hpp"
#include "artabpfn/task_tensors.hpp"

namespace artabpfn::cli {

struct JobOptions {
  std::string weights;
  std::string inputs;
  std::string context_csv, targets_csv;
  std::string backend = "cuda";
  std::string attention = "fused";
  std::string precision = "float32";  // cuda density: float32 or mixed
  std::string out;
  std::optional<int> n_heads;
};

// --weights, --inputs (or --context/--targets CSV), --backend, --attention, --precision, --out,
// --n-heads.
void add_job_options(CLI::App& command, JobOptions& options);

ModelWeights load_job_weights(const JobOptions& options);
TaskTensors load_job_inputs(const JobOptions& options);

// The bundled fixtures: --fixtures, else $ARTABPFN_FIXTURES_DIR, else the source tree's.
std::string fixtures_dir(const std::string& given);

}  // namespace artabpfn::cli
