#pragma once
// Runs the jobs on the CUDA engine (float32).
#include <cstdint>
#include <string>

#include "artabpfn/model_weights.hpp"
#include "artabpfn/task_tensors.hpp"
#include "result_writers.hpp"

namespace artabpfn::cli {

Table cuda_density(const ModelWeights& weights, const TaskTensors& tasks, const std::string& attention,
                   const std::string& precision);
Table cuda_samples(const ModelWeights& weights, const TaskTensors& tasks, std::int64_t samples, std::uint64_t seed,
                   const std::string& attention, const std::string& precision);

}  // namespace artabpfn::cli
