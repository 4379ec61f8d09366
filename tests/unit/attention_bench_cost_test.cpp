// attention_bench's counts (bench/attention/attention_case.hpp, Case::cost): the FLOPs against a
// count of the visible query-key pairs query by query, by the visibility rules of
// kernels/attention.hpp; the bytes against hand counts. Host code only: no GPU needed.
#include <gtest/gtest.h>

#include "bench/attention/attention_case.hpp"

namespace {

using artabpfn::bench::Case;
using artabpfn::bench::Kernel;
namespace b = artabpfn::bench;

// Keys query i of a sample and head sees.
int visible_keys(Kernel kernel, int i, int nc) {
  const int decode_buffer = b::kDecodeBufferLength, targets = b::kTeacherForcingTargets;
  // Teacher forcing: query i < L is buffer row i and sees rows 0..i; query L + t is target t and
  // sees rows 0..t-1.
  const int forced_buffer = i < targets ? i + 1 : i - targets;
  switch (kernel) {
    case Kernel::kShared: return nc;
    case Kernel::kBufferDecode: return decode_buffer;
    case Kernel::kFusedDecode: return nc + decode_buffer;
    case Kernel::kBufferTeacherForcing: return forced_buffer;
    case Kernel::kFusedTeacherForcing: return nc + forced_buffer;
    case Kernel::kExpanded: return nc;
    case Kernel::kMerge: break;
  }
  return 0;
}

TEST(BenchTests, AttentionCostFlopsAreTwoMultiplyAddsADimensionForEveryVisiblePair) {
  for (const Kernel kernel : b::kAllKernels) {
    if (kernel == Kernel::kMerge) continue;
    for (const int dh : {5, 32, 256})
      for (const auto& [batch, nc] : {std::pair{1, 1}, std::pair{3, 7}, std::pair{2, 300}}) {
        const Case c{kernel, dh, batch, nc};
        double pairs = 0;
        for (int i = 0; i < c.queries(); ++i) pairs += visible_keys(kernel, i, nc);
        pairs *= double(batch) * b::kHeads;
        EXPECT_DOUBLE_EQ(c.cost().flops, 4.0 * dh * pairs) << c.describe();  // q.k and p.v
      }
  }
}

TEST(BenchTests, AttentionCostBytesReadEachInputOnceAndWriteEachOutputOnce) {
  // B 2, Nc 3, Dh 4, H 4: decode rows 2 x 4 x 2 = 16, q and out 64 floats each, lse 16.
  const auto bytes = [](Kernel k) { return Case{k, 4, 2, 3}.cost().bytes / 4.0; };
  const double io = 64 + 64 + 16;
  EXPECT_DOUBLE_EQ(bytes(Kernel::kShared), io + 2 * 4 * 3 * 4);                  // the context's K and V once
  EXPECT_DOUBLE_EQ(bytes(Kernel::kExpanded), io + 2 * 2 * 4 * 3 * 4);            // every sample's copy
  EXPECT_DOUBLE_EQ(bytes(Kernel::kBufferDecode), io + 2 * 2 * 4 * 16 * 4);       // the 16 valid rows of 32
  EXPECT_DOUBLE_EQ(bytes(Kernel::kFusedDecode), io + 2 * 4 * 3 * 4 + 2 * 2 * 4 * 16 * 4);
  EXPECT_DOUBLE_EQ(bytes(Kernel::kMerge), 3 * (64 + 16));                         // two states in, one out
  // Teacher forcing: Lq 32, rows 2 x 4 x 32 = 256, q and out 1024 floats each.
  EXPECT_DOUBLE_EQ(bytes(Kernel::kBufferTeacherForcing), 1024 + 1024 + 256 + 2 * 2 * 4 * 16 * 4);
  EXPECT_DOUBLE_EQ((Case{Kernel::kMerge, 4, 2, 3}.cost().flops), 3.0 * 64);  // a weighted sum an element
}

}  // namespace
