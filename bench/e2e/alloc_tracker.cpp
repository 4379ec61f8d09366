// The wrapped cudaMalloc / cudaFree (see alloc_tracker.hpp).
#include "bench/e2e/alloc_tracker.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <mutex>
#include <unordered_map>

extern "C" cudaError_t __real_cudaMalloc(void** pointer, std::size_t size);
extern "C" cudaError_t __real_cudaFree(void* pointer);

namespace {

struct Tracker {
  std::mutex mutex;
  std::unordered_map<void*, std::size_t> sizes;
  std::size_t live = 0, peak = 0;
  bool active = false;
};

Tracker& tracker() {
  static Tracker t;
  return t;
}

}  // namespace

extern "C" cudaError_t __wrap_cudaMalloc(void** pointer, std::size_t size) {
  const cudaError_t status = __real_cudaMalloc(pointer, size);
  if (status == cudaSuccess && pointer && *pointer) {
    Tracker& t = tracker();
    const std::lock_guard<std::mutex> lock(t.mutex);
    t.sizes[*pointer] = size;
    t.live += size;
    t.peak = std::max(t.peak, t.live);
    t.active = true;
  }
  return status;
}

extern "C" cudaError_t __wrap_cudaFree(void* pointer) {
  if (pointer) {
    Tracker& t = tracker();
    const std::lock_guard<std::mutex> lock(t.mutex);
    if (const auto it = t.sizes.find(pointer); it != t.sizes.end()) {
      t.live -= it->second;
      t.sizes.erase(it);
    }
  }
  return __real_cudaFree(pointer);
}

namespace artabpfn::bench {

std::size_t live_device_bytes() {
  const std::lock_guard<std::mutex> lock(tracker().mutex);
  return tracker().live;
}

std::size_t peak_device_bytes() {
  const std::lock_guard<std::mutex> lock(tracker().mutex);
  return tracker().peak;
}

void reset_peak_device_bytes() {
  const std::lock_guard<std::mutex> lock(tracker().mutex);
  tracker().peak = tracker().live;
}

bool allocation_tracking_active() {
  const std::lock_guard<std::mutex> lock(tracker().mutex);
  return tracker().active;
}

}  // namespace artabpfn::bench
