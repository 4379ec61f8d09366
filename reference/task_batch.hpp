#pragma once
// Splitting the padded task layout (task_tensors.hpp) into the reference's per-task inputs.
#include <vector>

#include "artabpfn/task_tensors.hpp"
#include "reference/task.hpp"

namespace artabpfn::reference {

std::vector<TaskInputs> split_tasks(const TaskTensors& tensors);
// Per task, the value sets y [R, target_len] (requires tensors.y_target).
std::vector<InputMatrix> split_target_values(const TaskTensors& tensors);

}  // namespace artabpfn::reference
