#pragma once
// CUDA events at a decode step's stage marks (RecordedStageMarks), and the stages' times from them.
#include <cuda_runtime.h>

#include <cstddef>
#include <utility>
#include <vector>

#include "engine/stage.hpp"

namespace artabpfn::engine {

// "embed", "projections", "layer_norm", "kv_append", "attention", "context_attention",
// "buffer_attention", "merge", "feed_forward", "head", "sampling".
const char* stage_name(Stage stage);

class StageRecorder {
 public:
  StageRecorder() = default;
  StageRecorder(const StageRecorder&) = delete;
  StageRecorder& operator=(const StageRecorder&) = delete;
  ~StageRecorder();

  // Records an event on `stream`: the launches after it, up to the next mark, count to `stage`.
  void mark(Stage stage, cudaStream_t stream);
  // Records the step's last event, which closes the last stage's interval.
  void close(cudaStream_t stream);
  // Forgets the marks of the last step (the events are kept for the next).
  void restart();

  // Each stage's times (us), in the order the stages first occur.
  using StageSamples = std::vector<std::pair<Stage, std::vector<double>>>;
  // After the stream synchronised: appends each stage's summed intervals of this step to its
  // samples in `stages`. Returns the time from the first mark to the last (us).
  double collect(StageSamples& stages) const;

 private:
  void record(cudaStream_t stream);

  std::vector<cudaEvent_t> events_;
  std::vector<Stage> stages_;  // the stage each event but the closing one opens
  std::size_t used_ = 0;
};

}  // namespace artabpfn::engine
