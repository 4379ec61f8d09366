#pragma once
// Runs a job on the backend the options ask for: the CUDA engine, or the CPU reference in
// double or multiprecision. Where the CUDA engine is asked for but no GPU is usable (or this
// build has no CUDA), the double reference runs instead, with a one-line notice.
#include <cstdint>

#include "artabpfn/model_weights.hpp"
#include "artabpfn/task_tensors.hpp"
#include "command_options.hpp"
#include "result_writers.hpp"

namespace artabpfn::cli {

// The backend that will run: "cuda", "reference" or "reference-mp" (prints the fallback notice).
std::string resolve_backend(const JobOptions& options);

// Run on options.backend, which resolve_backend() has settled.
Table run_density(const JobOptions& options, const ModelWeights& weights, const TaskTensors& tasks);
Table run_samples(const JobOptions& options, const ModelWeights& weights, const TaskTensors& tasks,
                  std::int64_t samples, std::uint64_t seed);

}  // namespace artabpfn::cli
