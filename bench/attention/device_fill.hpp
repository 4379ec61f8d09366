#pragma once
// Benchmark inputs made on the device: values from a hash of the element index (the same values
// at every size and in every run, and no host copy of gigabytes), and per-sample copies of a block.
#include <cstddef>
#include <cstdint>

namespace artabpfn::bench {

// data[i] = scale * u, u uniform in [-1, 1) on a 2^-23 grid, a function of (i, seed) only.
void fill_uniform(float* data, std::size_t count, std::uint64_t seed, float scale);

// Copies `block` (block_size floats) into each of the `copies` consecutive slots of `out`.
void copy_per_sample(const float* block, std::size_t block_size, float* out, std::size_t copies);

}  // namespace artabpfn::bench
