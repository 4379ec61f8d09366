#pragma once
// Inputs beyond float32's range, refused before a backend that computes in float32 (the CUDA
// engine, the engine's precisions on the CPU) runs: such a value would become Inf, then NaN.
#include <string>
#include <string_view>

#include "artabpfn/task_tensors.hpp"

namespace artabpfn::jobs {

// Throws InputError naming the value, where it is, and the double reference as the way out.
void check_float32_range(const TaskTensors& tasks, const std::string& source, std::string_view backend);

}  // namespace artabpfn::jobs
