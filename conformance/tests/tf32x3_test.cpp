// The split TF32 product (conformance/plain/tf32x3.hpp): the split holds a float32 value in two
// TF32 values up to the rounding of the low one, and a dot product of split operands is about as
// accurate as a plain float32 FMA chain (measured here: within twice its error), far closer than
// one TF32 product per multiply.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "conformance/plain/arithmetic.hpp"
#include "conformance/plain/tf32x3.hpp"

namespace artabpfn::conformance::plain {
namespace {

TEST(ConformanceTests, Tf32x3SplitReproducesAFloatUpToTheRoundingOfItsLowPart) {
  std::mt19937 rng(20261207);
  std::uniform_real_distribution<float> mantissa(-1.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-60, 60);
  for (int i = 0; i < 100000; ++i) {
    const float x = std::ldexp(mantissa(rng), exponent(rng));
    const Tf32Split s = split_tf32(x);
    EXPECT_EQ(s.hi, round_tf32_nearest(x));
    EXPECT_EQ(s.lo, round_tf32_nearest(s.lo)) << "lo is a TF32 value";
    const float rest = x - s.hi;  // exact in float32
    EXPECT_EQ(double(rest), double(x) - double(s.hi));
    // hi + lo is x but for the rounding of lo: at most half a TF32 ulp of x - hi (2^-11 of it).
    const double residual = double(x) - double(s.hi) - double(s.lo);
    EXPECT_EQ(residual, double(rest) - double(s.lo));
    EXPECT_LE(std::abs(residual), std::ldexp(std::abs(double(rest)), -11)) << x;
    EXPECT_LE(std::abs(residual), std::ldexp(std::abs(double(x)), -21)) << x;
  }
  const Tf32Split tf32 = split_tf32(1.5f);  // a TF32 value splits into itself and 0
  EXPECT_EQ(tf32.hi, 1.5f);
  EXPECT_EQ(tf32.lo, 0.0f);
}

TEST(ConformanceTests, Tf32x3DotIsWithinTwiceTheErrorOfAFloat32FmaChain) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  for (const std::size_t n : {std::size_t(128), std::size_t(256)}) {
    double error_x3 = 0, error_fma = 0, error_tf32 = 0, magnitude = 0;  // summed over the trials
    for (int trial = 0; trial < 2000; ++trial) {
      std::vector<float> a(n), b(n);
      std::vector<Tf32Split> as(n), bs(n);
      double exact = 0;  // products of floats are exact in double; the sum's rounding is ~1e-16
      float fma_chain = 0, tf32_chain = 0;
      for (std::size_t k = 0; k < n; ++k) {
        a[k] = value(rng);
        b[k] = value(rng);
        as[k] = split_tf32(a[k]);
        bs[k] = split_tf32(b[k]);
        exact += double(a[k]) * double(b[k]);
        fma_chain = std::fma(a[k], b[k], fma_chain);
        tf32_chain += round_tf32_nearest(a[k]) * round_tf32_nearest(b[k]);
      }
      error_x3 += std::abs(double(tf32x3_dot(as, bs)) - exact);
      error_fma += std::abs(double(fma_chain) - exact);
      error_tf32 += std::abs(double(tf32_chain) - exact);
      magnitude += std::abs(exact);
    }
    std::printf("n %zu: relative error of the dot product: tf32x3 %.3g, float32 FMA chain %.3g, one TF32 product %.3g\n",
                n, error_x3 / magnitude, error_fma / magnitude, error_tf32 / magnitude);
    EXPECT_LE(error_x3, 2 * error_fma) << n;
    EXPECT_GT(error_x3, 0.0) << n;  // lo_a lo_b is dropped: not exact
    EXPECT_LT(10 * error_x3, error_tf32) << n;
  }
}

TEST(ConformanceTests, Tf32x3DotRoundsChunksOf8AndBlocksOf32InFloat32AndAddsBlocksInDouble) {
  // Terms of 1 beside 2^24 (float32's ulp there is 2) show where each rounding happens.
  std::vector<Tf32Split> ones(64, split_tf32(1.0f)), b(64, split_tf32(0.0f));
  b[0] = split_tf32(16777216.0f);
  for (std::size_t k = 1; k < 8; ++k) b[k] = split_tf32(1.0f);   // chunk 0: 2^24 + 7 ones, each dropped
  for (std::size_t k = 8; k < 15; ++k) b[k] = split_tf32(1.0f);  // chunk 1: 7 (exact)
  b[32] = split_tf32(-16777216.0f);                               // block 1: -2^24
  // Block 0 in float32: 2^24 + 7 rounds to 2^24 + 8; the blocks in double leave 8. (Chunks in
  // double would give 14; blocks in double 7; one float32 chain 0.)
  EXPECT_EQ(tf32x3_dot(ones, b), 8.0f);
}

}  // namespace
}  // namespace artabpfn::conformance::plain
