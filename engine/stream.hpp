#pragma once
// The streams the engine owns. Each is non-blocking (cudaStreamNonBlocking): its work is ordered
// with what is queued on it and with the events it waits for, never implicitly with the legacy
// default stream, so contexts on several threads do not serialise at each other's transfers.
#include <cuda_runtime.h>

#include "kernels/cuda_check.hpp"

namespace artabpfn::engine {

class Stream {
 public:
  Stream() { ARTABPFN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  ~Stream() {
    if (stream_) cudaStreamDestroy(stream_);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  cudaStream_t get() const { return stream_; }
  // Waits until everything queued on the stream has run.
  void synchronize() const { ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

 private:
  cudaStream_t stream_ = nullptr;
};

// A second stream for work beside a main stream: fork(main) makes it wait for what main has
// queued so far, join(main) makes main wait for what it has queued since. Eager and under stream
// capture alike (a captured step then has two branches).
class SideStream {
 public:
  SideStream() {
    ARTABPFN_CUDA_CHECK(cudaEventCreateWithFlags(&forked_, cudaEventDisableTiming));
    ARTABPFN_CUDA_CHECK(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming));
  }
  ~SideStream() {
    cudaEventDestroy(forked_);
    cudaEventDestroy(done_);
  }
  SideStream(const SideStream&) = delete;
  SideStream& operator=(const SideStream&) = delete;

  cudaStream_t fork(cudaStream_t main) {
    ARTABPFN_CUDA_CHECK(cudaEventRecord(forked_, main));
    ARTABPFN_CUDA_CHECK(cudaStreamWaitEvent(stream_.get(), forked_, 0));
    return stream_.get();
  }
  void join(cudaStream_t main) {
    ARTABPFN_CUDA_CHECK(cudaEventRecord(done_, stream_.get()));
    ARTABPFN_CUDA_CHECK(cudaStreamWaitEvent(main, done_, 0));
  }

 private:
  Stream stream_;
  cudaEvent_t forked_ = nullptr, done_ = nullptr;
};

}  // namespace artabpfn::engine
