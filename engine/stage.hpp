#pragma once
// The stages of a decode step, for a stage profile (engine/profiling.hpp), and the policy that
// marks where each stage's launches begin. The code that launches (LayerRunner, decode_step) takes
// the policy as a template parameter: every job runs with NoStageMarks, whose mark() is empty and
// compiles to nothing; only the profile's marked step runs with RecordedStageMarks, which records
// a CUDA event at each mark.
#include <cuda_runtime.h>

namespace artabpfn::engine {

// split attention: context_attention, buffer_attention, merge; fused: attention.
enum class Stage {
  kEmbed,
  kProjections,
  kLayerNorm,
  kKvAppend,
  kAttention,
  kContextAttention,
  kBufferAttention,
  kMerge,
  kFeedForward,
  kHead,
  kSampling,
};

struct NoStageMarks {
  void mark(Stage, cudaStream_t) const {}
};

class StageRecorder;  // engine/stage_recorder.hpp

struct RecordedStageMarks {
  StageRecorder* recorder = nullptr;
  void mark(Stage stage, cudaStream_t stream) const;  // recorder->mark(stage, stream)
};

}  // namespace artabpfn::engine
