// See random_words.hpp: one thread per counter writes the four words of random_stream::draw().
#include <cuda_runtime.h>

#include "artabpfn/random_stream.hpp"
#include "kernels/cuda_check.hpp"
#include "properties/gpu_layer/random_words.hpp"

namespace artabpfn::gpu_layer_test {
namespace {

__global__ void draw_words_kernel(std::uint64_t seed, const std::uint32_t* task, const std::uint32_t* sample,
                                  std::uint32_t step, std::int64_t count, float* out) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const random_stream::Words words = random_stream::draw(seed, task[i], sample[i], step);
  for (int j = 0; j < 4; ++j) {
    out[8 * i + 2 * j] = static_cast<float>(words.w[j] & 0xffffu);
    out[8 * i + 2 * j + 1] = static_cast<float>(words.w[j] >> 16);
  }
}

}  // namespace

void draw_words_on_device(std::uint64_t seed, const std::uint32_t* task, const std::uint32_t* sample,
                          std::uint32_t step, std::int64_t count, float* out) {
  if (count == 0) return;
  const std::int64_t blocks = (count + 127) / 128;
  draw_words_kernel<<<static_cast<unsigned int>(blocks), 128>>>(seed, task, sample, step, count, out);
  ARTABPFN_CHECK_LAUNCH();
}

}  // namespace artabpfn::gpu_layer_test
