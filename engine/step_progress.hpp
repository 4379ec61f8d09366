#pragma once
// SessionOptions::progress for one call: counts AR steps over the call's chunks and reports at
// most every 0.25 s, after the stream has caught up (so the count is what has run), and at the end.
#include <cuda_runtime.h>

#include <chrono>
#include <cstdint>
#include <functional>

#include "engine/session_options.hpp"
#include "kernels/cuda_check.hpp"

namespace artabpfn::engine {

class StepProgress {
 public:
  StepProgress(const SessionOptions& options, cudaStream_t stream, std::int64_t total)
      : report_(options.progress), stream_(stream), total_(total) {}

  // One more step queued; without a progress callback, nothing else.
  void step_done() {
    ++done_;
    if (!report_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done_ < total_ && now - last_ < std::chrono::milliseconds(250)) return;
    ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(stream_));
    last_ = now;
    report_(done_, total_);
  }

 private:
  const std::function<void(std::int64_t, std::int64_t)>& report_;
  cudaStream_t stream_;
  std::int64_t total_, done_ = 0;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace artabpfn::engine
