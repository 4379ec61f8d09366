#pragma once
// Runs a job on the backend the options ask for: the CUDA engine, the engine's arithmetic of a
// precision on the CPU (cpu), or the CPU reference in double or multiprecision. Where the CUDA
// engine is asked for but no GPU is usable (or this build has no CUDA), the double reference runs
// instead, with a one-line notice; the others never fall back.
#include <cstdint>
#include <string>

#include "artabpfn/model_weights.hpp"
#include "artabpfn/notices.hpp"
#include "artabpfn/task_tensors.hpp"
#include "jobs/progress.hpp"
#include "jobs/table.hpp"
#include "jobs/support_table.hpp"

namespace artabpfn::jobs {

// Empty when a CUDA GPU is usable; otherwise why not ("no NVIDIA driver found", ...).
std::string gpu_unavailable();

// The combination that will run: `asked`, or the double reference's where `asked` is cuda and no
// GPU is usable (then a one-line notice goes to `notices`, stderr when empty).
Combination resolve_backend(const Combination& asked, const NoticeSink& notices = {});

// Run on `settings`, which resolve_backend() has settled. `progress` is called with the steps
// (cuda) or tasks (cpu, reference) done; empty: a progress line on stderr when it is a terminal.
Table run_density(const Combination& settings, const ModelWeights& weights, const TaskTensors& tasks,
                  const ProgressFn& progress = {});
Table run_samples(const Combination& settings, const ModelWeights& weights, const TaskTensors& tasks,
                  std::int64_t samples, std::uint64_t seed, const ProgressFn& progress = {});

// How many bytes of host memory a backend holds per result value besides the result table.
double backend_bytes_per_value(const Combination& settings);

}  // namespace artabpfn::jobs
