// FP32 FMA and copy ceilings, measured with CUDA events (medians of 9 runs after 2 warm-ups).
#include <cuda_runtime.h>

#include <algorithm>
#include <vector>

#include "bench/ceilings/ceilings.hpp"
#include "bench/event_timing.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/device_buffer.hpp"

namespace artabpfn::bench {
namespace {

// 16 independent FMA chains per thread keep every FP32 lane busy; the result is kept alive by a
// store that never happens.
__global__ void fma_chains_kernel(float* sink, int iterations, float a, float b) {
  float x[16];
#pragma unroll
  for (int c = 0; c < 16; ++c) x[c] = static_cast<float>(threadIdx.x + c) * 1e-3f;
  for (int it = 0; it < iterations; ++it) {
#pragma unroll
    for (int c = 0; c < 16; ++c) x[c] = fmaf(x[c], a, b);
  }
  float s = 0.f;
#pragma unroll
  for (int c = 0; c < 16; ++c) s += x[c];
  if (s == 12345.678f) sink[0] = s;
}

// Median of 9 timed launches after 2 warm-ups, on the legacy default stream.
template <class F>
double median_ms(F&& launch) {
  return median_event_ms(0, 2, 9, launch);
}

}  // namespace

MeasuredCeilings measure_ceilings(bool quick) {
  MeasuredCeilings c;
  int device = 0, sms = 0, clock_khz = 0, mem_clock_khz = 0, bus_bits = 0, major = 0, minor = 0;
  ARTABPFN_CUDA_CHECK(cudaGetDevice(&device));
  ARTABPFN_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device);
  cudaDeviceGetAttribute(&mem_clock_khz, cudaDevAttrMemoryClockRate, device);
  cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device);
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
  cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device);
  cudaGetLastError();  // an attribute this runtime does not know leaves 0, not an error
  const int lanes = major >= 9 || (major == 8 && minor > 0) ? 128 : (major == 8 ? 64 : 0);
  c.properties_flops_per_s = double(sms) * lanes * 2.0 * double(clock_khz) * 1e3;
  c.properties_bytes_per_s = 2.0 * double(mem_clock_khz) * 1e3 * double(bus_bits) / 8.0;

  const std::size_t bytes = quick ? (512u << 20) : (1024u << 20);
  kernels::DeviceBuffer<char> a(bytes), b(bytes);
  ARTABPFN_CUDA_CHECK(cudaMemset(a.data(), 1, bytes));
  const double copy_ms =
      median_ms([&] { ARTABPFN_CUDA_CHECK(cudaMemcpyAsync(b.data(), a.data(), bytes, cudaMemcpyDeviceToDevice)); });
  c.copy_size_bytes = double(bytes);
  c.copy_bytes_per_s = 2.0 * double(bytes) / (copy_ms * 1e-3);

  kernels::DeviceBuffer<float> sink(1);
  const int blocks = sms * 8, threads = 256, iterations = quick ? 4096 : 8192;
  const double fma_ms = median_ms([&] {
    fma_chains_kernel<<<blocks, threads>>>(sink.data(), iterations, 0.999f, 1e-4f);
    ARTABPFN_CHECK_LAUNCH();
  });
  c.fma_flops_per_s = 2.0 * 16.0 * double(iterations) * double(blocks) * threads / (fma_ms * 1e-3);
  return c;
}

}  // namespace artabpfn::bench
