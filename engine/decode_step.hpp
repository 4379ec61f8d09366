#pragma once
// One AR decode step: the embedding of buffer t-1 and target t of every sample, the layers
// (the cluster step for the samples engine/decode_plan.hpp gives it, per-layer launches for the
// others, beside it on a second stream where both run), the head, and sampling or the log
// density of the given value.
#include "engine/decode_state.hpp"
#include "engine/layer_runner.hpp"
#include "engine/task_data.hpp"

namespace artabpfn::engine {

// Launches the decode step st.step names on run's stream and advances st.step. Defined for
// NoStageMarks (every job) and RecordedStageMarks (profile_decode_step's marked step).
template <class Marks>
void decode_step(LayerRunner<Marks>& run, const TaskData& d, const ContextCache& cache, DecodeState& st);

}  // namespace artabpfn::engine
