#pragma once
// A call's sequences on the host: a job runs `per_task` sequences for every task (samples, or the
// value sets of y_target), sequence s belonging to task s / per_task, in chunks [first, first +
// batch). Here: which task each sequence reads, its given values, and where its results go in the
// padded [T, per_task, Nt_max] result.
#include <cstdint>
#include <vector>

#include "artabpfn/host_tensor.hpp"
#include "artabpfn/task_tensors.hpp"

namespace artabpfn::engine {

// [tasks, rows_per_task, nt_max], NaN everywhere (past a task's target count it stays NaN).
HostTensor<float> padded_result(std::int64_t tasks, std::int64_t rows_per_task, std::int64_t nt_max);

// The task of each sequence [first, first + batch), `per_task` sequences a task.
std::vector<std::int32_t> sequence_tasks(std::int64_t first, std::int64_t batch, std::int64_t per_task);

// Copies a step-major [Nt, batch] result of sequences [first, first + batch) into out
// [T, rows_per_task, Nt], each sequence up to its task's target count.
void scatter_steps(const std::vector<float>& steps, std::int64_t first, std::int64_t batch, std::int64_t rows_per_task,
                   const std::vector<std::int64_t>& target_len, HostTensor<float>& out);
// The same for a sequence-major [batch, Nt] result.
void scatter_sequences(const std::vector<float>& sequences, std::int64_t first, std::int64_t batch,
                       std::int64_t rows_per_task, const std::vector<std::int64_t>& target_len, HostTensor<float>& out);

// y_target's values of sequences [first, first + batch) (sequence s: value set s % R of task
// s / R), sequence-major [batch, nt], zero past a task's target count.
std::vector<float> given_values(const TaskTensors& t, std::int64_t first, std::int64_t batch, std::int64_t nt);
// The same values step-major [nt, batch], as the decode path reads them.
std::vector<float> given_values_by_step(const TaskTensors& t, std::int64_t first, std::int64_t batch, std::int64_t nt);

// One task per sequence [first, first + batch) (sequence s belongs to task s / per_task), each
// with its own copy of its task's context: what a baseline without a shared context cache works on.
TaskTensors one_task_per_sequence(const TaskTensors& t, std::int64_t first, std::int64_t batch, std::int64_t per_task);

}  // namespace artabpfn::engine
