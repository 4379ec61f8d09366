#pragma once
// Runs the jobs on the CPU reference, in double or in 50-digit multiprecision.
#include <cstdint>
#include <string>

#include "artabpfn/model_weights.hpp"
#include "artabpfn/task_tensors.hpp"
#include "jobs/progress.hpp"
#include "jobs/table.hpp"

namespace artabpfn::jobs {

enum class Precision { kDouble, kMultiprecision };

// Per task, log densities [R, target_len] of every value set (teacher forcing). `progress` gets
// the tasks done after each; empty: UnitProgress on stderr when it is a terminal.
Table reference_density(const ModelWeights& weights, const TaskTensors& tasks, Precision precision,
                        const ProgressFn& progress);
// Per task, samples [S, target_len] with the random-stream contract (task id = position).
Table reference_samples(const ModelWeights& weights, const TaskTensors& tasks, std::int64_t samples,
                        std::uint64_t seed, Precision precision, const ProgressFn& progress);

// "reference" or "reference-mp"; InputError when this build lacks the backend.
Precision parse_reference_backend(const std::string& backend);
// Bytes of one result value while the reference holds it.
double reference_bytes_per_value(Precision precision);

}  // namespace artabpfn::jobs
