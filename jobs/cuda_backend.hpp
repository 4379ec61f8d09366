#pragma once
// Runs the jobs on the CUDA engine (float32, or mixed precision for density), and names the CUDA
// versions here (whether a GPU is usable: kernels::gpu_unavailable_reason()).
#include <cstdint>
#include <string>

#include "artabpfn/model_weights.hpp"
#include "artabpfn/task_tensors.hpp"
#include "jobs/progress.hpp"
#include "jobs/table.hpp"

namespace artabpfn::jobs {

// "CUDA runtime 13.0, driver supports CUDA 13.0" or "CUDA runtime 13.0, no NVIDIA driver found".
std::string cuda_versions();

// `progress` gets the AR steps done (over all chunks); empty: a line on stderr when it is a terminal.
Table cuda_density(const ModelWeights& weights, const TaskTensors& tasks, const std::string& attention,
                   const std::string& precision, const ProgressFn& progress);
Table cuda_samples(const ModelWeights& weights, const TaskTensors& tasks, std::int64_t samples, std::uint64_t seed,
                   const std::string& attention, const std::string& precision, const ProgressFn& progress);

}  // namespace artabpfn::jobs
