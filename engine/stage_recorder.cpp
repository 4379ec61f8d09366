#include "engine/stage_recorder.hpp"

#include "kernels/cuda_check.hpp"

namespace artabpfn::engine {

const char* stage_name(Stage stage) {
  switch (stage) {
    case Stage::kEmbed: return "embed";
    case Stage::kProjections: return "projections";
    case Stage::kLayerNorm: return "layer_norm";
    case Stage::kKvAppend: return "kv_append";
    case Stage::kAttention: return "attention";
    case Stage::kContextAttention: return "context_attention";
    case Stage::kBufferAttention: return "buffer_attention";
    case Stage::kMerge: return "merge";
    case Stage::kFeedForward: return "feed_forward";
    case Stage::kHead: return "head";
    case Stage::kSampling: return "sampling";
  }
  return "?";
}

void RecordedStageMarks::mark(Stage stage, cudaStream_t stream) const { recorder->mark(stage, stream); }

StageRecorder::~StageRecorder() {
  for (cudaEvent_t e : events_) cudaEventDestroy(e);
}

void StageRecorder::record(cudaStream_t stream) {
  if (used_ == events_.size()) {
    cudaEvent_t e = nullptr;
    ARTABPFN_CUDA_CHECK(cudaEventCreate(&e));
    events_.push_back(e);
  }
  ARTABPFN_CUDA_CHECK(cudaEventRecord(events_[used_++], stream));
}

void StageRecorder::mark(Stage stage, cudaStream_t stream) {
  record(stream);
  stages_.push_back(stage);
}

void StageRecorder::close(cudaStream_t stream) { record(stream); }

void StageRecorder::restart() {
  used_ = 0;
  stages_.clear();
}

double StageRecorder::collect(StageSamples& stages) const {
  const auto us = [&](std::size_t a, std::size_t b) {
    float ms = 0;
    ARTABPFN_CUDA_CHECK(cudaEventElapsedTime(&ms, events_[a], events_[b]));
    return 1000.0 * double(ms);
  };
  std::vector<double> sums(stages.size(), 0.0);
  for (std::size_t i = 0; i + 1 < used_; ++i) {
    std::size_t k = 0;
    while (k < stages.size() && stages[k].first != stages_[i]) ++k;
    if (k == stages.size()) {
      stages.emplace_back(stages_[i], std::vector<double>());
      sums.push_back(0.0);
    }
    sums[k] += us(i, i + 1);
  }
  for (std::size_t k = 0; k < stages.size(); ++k) stages[k].second.push_back(sums[k]);
  return used_ > 1 ? us(0, used_ - 1) : 0.0;
}

}  // namespace artabpfn::engine
