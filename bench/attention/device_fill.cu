#include "bench/attention/device_fill.hpp"

#include <cuda_runtime.h>

#include "kernels/cuda_check.hpp"

namespace artabpfn::bench {
namespace {

constexpr int kBlocks = 4096, kThreads = 256;

__global__ void fill_uniform_kernel(float* data, std::size_t count, std::uint64_t seed, float scale) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    std::uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ seed;  // splitmix64's finaliser
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    const float u = static_cast<float>(static_cast<std::int64_t>(x >> 40) - (1 << 23)) * 0x1p-23f;
    data[i] = scale * u;
  }
}

__global__ void copy_per_sample_kernel(const float* block, std::size_t block_size, float* out, std::size_t total) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    out[i] = block[i % block_size];
}

}  // namespace

void fill_uniform(float* data, std::size_t count, std::uint64_t seed, float scale) {
  if (count == 0) return;
  fill_uniform_kernel<<<kBlocks, kThreads>>>(data, count, seed, scale);
  ARTABPFN_CHECK_LAUNCH();
}

void copy_per_sample(const float* block, std::size_t block_size, float* out, std::size_t copies) {
  if (block_size == 0 || copies == 0) return;
  copy_per_sample_kernel<<<kBlocks, kThreads>>>(block, block_size, out, block_size * copies);
  ARTABPFN_CHECK_LAUNCH();
}

}  // namespace artabpfn::bench
