#pragma once
// The random-stream contract, layout version 1. The reference and the CUDA sampler include this
// one header, so their uniform draws are equal bit for bit.
//
//   generator  Philox4x32-10 (Random123)
//   key        {seed & 0xffffffff, seed >> 32}                  (the caller's 64-bit seed)
//   counter    {task_id, sample, step, 0}                        (task_id: the task's position
//              in the call unless the caller gives ids; sample: index within the task;
//              step: the target index t)
//   words      w0 picks the mixture component; w1, w2 make the standard normal; w3 is unused
//   uniform    u(w) = (w + 0.5) * 2^-32, exact in double, in the open interval (0, 1)
//   component  the smallest k with u(w0) < sum_{j<=k} exp(logw_j), the sum accumulated in the
//              implementation's working precision in order k = 0..K-1; K-1 if there is none
//   normal     sqrt(-2 ln u(w1)) * cos(2 pi u(w2)), evaluated in double (Box-Muller)
//   value      y = mean_k + std_k * normal, in the working precision
//
// Because a draw depends only on (seed, task_id, sample, step), results do not depend on batch
// size, launch shape or how samples are chunked.
#include <Random123/philox.h>

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define ARTABPFN_HOST_DEVICE __host__ __device__
#else
#define ARTABPFN_HOST_DEVICE
#endif

namespace artabpfn::random_stream {

inline constexpr int kLayoutVersion = 1;
inline constexpr const char* kLayoutName = "philox4x32-10/v1";

struct Words {
  std::uint32_t w[4];
};

ARTABPFN_HOST_DEVICE inline Words draw(std::uint64_t seed, std::uint32_t task_id, std::uint32_t sample,
                                       std::uint32_t step) {
  r123::Philox4x32 generator;
  r123::Philox4x32::ctr_type counter = {{task_id, sample, step, 0u}};
  r123::Philox4x32::key_type key = {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
  const r123::Philox4x32::ctr_type out = generator(counter, key);
  return Words{{out[0], out[1], out[2], out[3]}};
}

ARTABPFN_HOST_DEVICE inline double open_uniform(std::uint32_t word) {
  return (static_cast<double>(word) + 0.5) * 0x1p-32;
}

ARTABPFN_HOST_DEVICE inline double box_muller_normal(std::uint32_t w1, std::uint32_t w2) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  return sqrt(-2.0 * log(open_uniform(w1))) * cos(kTwoPi * open_uniform(w2));
}

// The two numbers a sampler needs for one (task, sample, step).
struct Draw {
  double component_uniform;
  double normal;
};

ARTABPFN_HOST_DEVICE inline Draw draw_for(std::uint64_t seed, std::uint32_t task_id, std::uint32_t sample,
                                          std::uint32_t step) {
  const Words words = draw(seed, task_id, sample, step);
  return Draw{open_uniform(words.w[0]), box_muller_normal(words.w[1], words.w[2])};
}

}  // namespace artabpfn::random_stream
