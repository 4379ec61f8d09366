// The roundings of the CPU implementation under test's precisions
// (conformance/float32_cpu/precision.hpp): round to nearest at the format's precision, ties as
// each format says, FP16's overflow and subnormals, and the ARTABPFN_PRECISION names.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "conformance/float32_cpu/precision.hpp"

namespace artabpfn::conformance::cpu {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(ConformanceTests, CpuFp16RoundsToNearestEvenWithSubnormalsAndOverflow) {
  EXPECT_EQ(round_fp16(1.0f + 0x1p-11f), 1.0f);                  // a tie: to even
  EXPECT_EQ(round_fp16(1.0f + 0x3p-11f), 1.0f + 0x1p-9f);        // a tie: to even, upwards
  EXPECT_EQ(round_fp16(1.0f + 0x1p-11f + 0x1p-20f), 1.0f + 0x1p-10f);
  EXPECT_EQ(round_fp16(65519.0f), 65504.0f);                     // below the midpoint to infinity
  EXPECT_EQ(round_fp16(65520.0f), kInf);
  EXPECT_EQ(round_fp16(-1e6f), -kInf);
  EXPECT_EQ(round_fp16(0x1p-25f), 0.0f);                          // half the smallest subnormal: to even (0)
  EXPECT_EQ(round_fp16(0x3p-25f), 0x1p-23f);                      // 1.5 subnormal quanta: to even (2)
  EXPECT_EQ(round_fp16(0x1.8p-20f), 0x1.8p-20f);                  // a subnormal that fits
}

TEST(ConformanceTests, CpuBf16RoundsToNearestEven) {
  EXPECT_EQ(round_bf16(1.0f + 0x1p-8f), 1.0f);
  EXPECT_EQ(round_bf16(1.0f + 0x3p-8f), 1.0f + 0x1p-6f);
  EXPECT_EQ(round_bf16(1.0f + 0x1p-8f + 0x1p-20f), 1.0f + 0x1p-7f);
  EXPECT_EQ(round_bf16(0x1.fep127f), 0x1.fep127f);  // the largest finite BF16
  EXPECT_EQ(round_bf16(0x1.ffp127f), kInf);         // its midpoint with 2^128: to even (infinity)
  EXPECT_EQ(round_bf16(-3e-40f), -0x1.8p-132f);  // a float32 subnormal: BF16 keeps its quanta of 2^-133
}

TEST(ConformanceTests, CpuTf32RoundsTiesAwayFromZero) {
  EXPECT_EQ(round_tf32(1.0f + 0x1p-11f), 1.0f + 0x1p-10f);
  EXPECT_EQ(round_tf32(-(1.0f + 0x1p-11f)), -(1.0f + 0x1p-10f));
  EXPECT_EQ(round_tf32(1.0f + 0x1p-12f), 1.0f);
  EXPECT_EQ(round_tf32(1.0f + 0x3p-11f), 1.0f + 0x2p-10f);
}

TEST(ConformanceTests, CpuOperandsInputsAndOutputsRoundAsEachPrecisionSays) {
  const float x = 1.0f + 0x1p-12f + 0x1p-20f;
  EXPECT_EQ(round_operand(Precision::kFloat32, x), x);
  EXPECT_EQ(round_operand(Precision::kTf32, x), 1.0f);
  EXPECT_EQ(round_input(Precision::kTf32, x), x);  // TF32 rounds only what a product reads
  EXPECT_EQ(round_output(Precision::kBf16, x), 1.0f);
  EXPECT_EQ(round_output(Precision::kFp16, 1.0f + 0x1p-10f), 1.0f + 0x1p-10f);
  EXPECT_TRUE(std::isnan(round_operand(Precision::kFp16, std::numeric_limits<float>::quiet_NaN())));
}

TEST(ConformanceTests, CpuPrecisionIsNamedByTheEnvironment) {
  ::setenv("ARTABPFN_PRECISION", "bf16", 1);
  EXPECT_EQ(precision_from_environment(), Precision::kBf16);
  ::setenv("ARTABPFN_PRECISION", "", 1);
  EXPECT_EQ(precision_from_environment(), Precision::kFloat32);
  ::setenv("ARTABPFN_PRECISION", "half", 1);
  EXPECT_THROW(precision_from_environment(), std::invalid_argument);
  ::unsetenv("ARTABPFN_PRECISION");
  for (Precision p : {Precision::kFloat32, Precision::kTf32, Precision::kBf16, Precision::kFp16}) {
    ::setenv("ARTABPFN_PRECISION", precision_name(p), 1);
    EXPECT_EQ(precision_from_environment(), p);
  }
  ::unsetenv("ARTABPFN_PRECISION");
}

}  // namespace
}  // namespace artabpfn::conformance::cpu
