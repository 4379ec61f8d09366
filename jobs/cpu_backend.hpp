#pragma once
// The `cpu` backend: the engine's arithmetic of a precision, run on the CPU (docs/precisions.md,
// "The engine's precisions on the CPU"): float32 (the reference instantiated with float), tf32
// (every product's operands rounded to TF32 to nearest) and tf32x3 (the split TF32 product), the
// plain implementations of conformance/plain. Task by task like the reference: density by teacher
// forcing, samples with the random-stream contract (task id = position). It is the CPU: it never
// falls back.
#include <cstdint>
#include <string>

#include "artabpfn/model_weights.hpp"
#include "artabpfn/task_tensors.hpp"
#include "jobs/progress.hpp"
#include "jobs/table.hpp"

namespace artabpfn::jobs {

// `precision`: "float32", "tf32" or "tf32x3" (the support table's rows). `progress` gets the tasks
// done after each; empty: UnitProgress on stderr when it is a terminal.
Table cpu_density(const ModelWeights& weights, const TaskTensors& tasks, const std::string& precision,
                  const ProgressFn& progress);
Table cpu_samples(const ModelWeights& weights, const TaskTensors& tasks, std::int64_t samples, std::uint64_t seed,
                  const std::string& precision, const ProgressFn& progress);

// Bytes of one result value while the backend holds it (float32).
double cpu_bytes_per_value();

}  // namespace artabpfn::jobs
