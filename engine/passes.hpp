#pragma once
// The float32 passes over whole sequences of rows: the prefill (every task's context rows once,
// leaving their per-layer K/V) and a teacher-forcing pass (buffers and targets of many sequences
// at once, leaving the targets' mixture rows).
#include <cstdint>
#include <vector>

#include "engine/layer_runner.hpp"
#include "engine/task_data.hpp"
#include "engine/workspace.hpp"

namespace artabpfn::engine {

// Every task's context rows through the network on run's stream: their per-layer K/V. Waits for
// the stream before returning (its scratch memory is freed on return).
ContextCache prefill(LayerRunner<>& run, const TaskData& d);

// Teacher-forcing pass over `batch` sequences of nt buffer rows then nt target rows: sequence b
// reads the context of task seq_task[b], feature rows seq_task[b] * Nt_max + j and values
// y[b * nt + j] (device). Leaves the targets' mixture rows in w.mixture [batch * nt, 3K]. Waits for
// the stream before returning (its index arrays are freed on return).
void teacher_forcing_pass(LayerRunner<>& run, const TaskData& d, const ContextCache& cache,
                          const std::vector<std::int32_t>& seq_task, const float* y, std::int64_t nt, Workspace& w);

}  // namespace artabpfn::engine
