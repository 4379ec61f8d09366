#pragma once
// A test-only kernel: the raw Philox words of random_stream::draw() on the device, to compare bit
// for bit with the host (include/artabpfn/random_stream.hpp is the one header both use).
#include <cstdint>

namespace artabpfn::gpu_layer_test {

// For i < count: out[8 i + 2 j] = low 16 bits of word j, out[8 i + 2 j + 1] = high 16 bits, as
// floats (exact small integers, so no word can collide with the GuardedOutput poison pattern).
//   task, sample [count] device pointers; out [8 count] device pointer
void draw_words_on_device(std::uint64_t seed, const std::uint32_t* task, const std::uint32_t* sample,
                          std::uint32_t step, std::int64_t count, float* out);

}  // namespace artabpfn::gpu_layer_test
