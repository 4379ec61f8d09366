#include "conformance/plain/tf32x3.hpp"

#include <algorithm>
#include <stdexcept>

#include "conformance/plain/arithmetic.hpp"

namespace artabpfn::conformance::plain {

Tf32Split split_tf32(float x) {
  const float hi = round_tf32_nearest(x);
  return {hi, round_tf32_nearest(x - hi)};  // x - hi is exact in float32
}

float tf32x3_dot(std::span<const Tf32Split> a, std::span<const Tf32Split> b) {
  if (a.size() != b.size()) throw std::logic_error("tf32x3_dot: operands of different lengths");
  const std::size_t n = a.size();
  double total = 0.0;
  for (std::size_t block = 0; block < n; block += kTf32x3Block) {
    const std::size_t block_end = std::min(n, block + kTf32x3Block);
    float block_sum = 0.0f;
    for (std::size_t chunk = block; chunk < block_end; chunk += kTf32x3Chunk) {
      const std::size_t end = std::min(block_end, chunk + kTf32x3Chunk);
      float sum = 0.0f;
      for (std::size_t k = chunk; k < end; ++k) sum += a[k].lo * b[k].hi;
      for (std::size_t k = chunk; k < end; ++k) sum += a[k].hi * b[k].lo;
      for (std::size_t k = chunk; k < end; ++k) sum += a[k].hi * b[k].hi;
      block_sum += sum;
    }
    total += double(block_sum);
  }
  return float(total);
}

}  // namespace artabpfn::conformance::plain
