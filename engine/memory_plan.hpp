#pragma once
// How many sequences of a call run at once: the device memory one sequence of each job needs (in
// float32 units, the planner's unit) and the chunk of sequences that fits the memory budget.
#include <cstdint>

#include "artabpfn/model_config.hpp"
#include "engine/session_options.hpp"

namespace artabpfn::engine {

// A teacher-forcing pass over one sequence of nt targets (2 nt rows and their buffer K/V).
std::int64_t teacher_forcing_floats_per_sequence(const ModelConfig& c, std::int64_t nt);
// One sequence of the AR decode path: its buffer K/V of every layer, a step's 2 rows, values.
std::int64_t decode_floats_per_sequence(const ModelConfig& c, int nt_max);
// One sequence of the reencode baseline: its own context of nc rows (prefill and its cache) and
// the largest teacher-forcing pass of its steps.
std::int64_t reencode_floats_per_sequence(const ModelConfig& c, std::int64_t nc, std::int64_t nt);

// Sequences per chunk so that `floats_per_sequence` floats each fit options.memory_budget_bytes
// (0: 90% of the device memory free now); at least 1. Where that takes more than one chunk, says
// so through options.notices (stderr where empty), naming `job`.
std::int64_t plan_chunk(const SessionOptions& options, const char* job, std::int64_t sequences,
                        std::int64_t floats_per_sequence);

}  // namespace artabpfn::engine
