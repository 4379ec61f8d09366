#pragma once
// GPU timing for the benchmarks: the median of CUDA-event intervals around repeated runs.
#include <cuda_runtime.h>

#include <vector>

#include "artabpfn/median.hpp"
#include "kernels/cuda_check.hpp"

namespace artabpfn::bench {

// Median milliseconds of `timed` runs of f() on `stream`, each between two events, after
// `warmups` untimed runs; before_each() runs before every timed run, outside its interval (an L2
// flush, say).
template <class F, class Before>
double median_event_ms(cudaStream_t stream, int warmups, int timed, F&& f, Before&& before_each) {
  cudaEvent_t start = nullptr, stop = nullptr;
  ARTABPFN_CUDA_CHECK(cudaEventCreate(&start));
  ARTABPFN_CUDA_CHECK(cudaEventCreate(&stop));
  for (int i = 0; i < warmups; ++i) f();
  std::vector<float> ms;
  for (int i = 0; i < timed; ++i) {
    before_each();
    ARTABPFN_CUDA_CHECK(cudaEventRecord(start, stream));
    f();
    ARTABPFN_CUDA_CHECK(cudaEventRecord(stop, stream));
    ARTABPFN_CUDA_CHECK(cudaEventSynchronize(stop));
    float elapsed = 0.f;
    ARTABPFN_CUDA_CHECK(cudaEventElapsedTime(&elapsed, start, stop));
    ms.push_back(elapsed);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return median(ms);
}

template <class F>
double median_event_ms(cudaStream_t stream, int warmups, int timed, F&& f) {
  return median_event_ms(stream, warmups, timed, f, [] {});
}

}  // namespace artabpfn::bench
