// The tolerance rule (tolerance/rule.hpp): floors, limits, the per-output check and the agreement
// of two paths, the rule for double arithmetic, bitwise equality and the ratio log; and the
// constants the conformance vectors freeze.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tolerance/bitwise.hpp"
#include "tolerance/constants.hpp"
#include "tolerance/double_rounding.hpp"
#include "tolerance/precision.hpp"
#include "tolerance/quantile.hpp"
#include "tolerance/ratio_log.hpp"

namespace artabpfn::tolerance {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr float kInfF = std::numeric_limits<float>::infinity();

TEST(ToleranceTests, FloorsScaleWithTheLargestFiniteExpectedValue) {
  const std::vector<double> expected{0.5, -2.0, -kInf, kNaN};
  EXPECT_EQ(kAttentionFloor.of(expected), 4 * 0x1p-23 * 2.0);
  EXPECT_EQ(kLayerFloor.of(expected), 2 * 0x1p-23 * 2.0);
  // Below 1: the attention floor stays at its value at 1, the layer floor follows the values.
  const std::vector<double> small{0.25, -0.125};
  EXPECT_EQ(kAttentionFloor.of(small), 4 * 0x1p-23);
  EXPECT_EQ(kLayerFloor.of(small), 2 * 0x1p-23 * 0.25);
  EXPECT_EQ(kLayerFloor.of(std::vector<double>{}), 0.0);
  EXPECT_EQ(kGeluReferenceFloor.at(3.0), 0x1p-50 * 3.0);
  EXPECT_EQ(kMixedAttentionFloor.at(0.5), 0x1p-40);
  EXPECT_EQ(kLinearGeluFloor.at(5.0), 2 * kLinearFloor.at(5.0));
}

// index.json freezes these per output; changing one changes every generated vector set.
TEST(ToleranceTests, ConformanceVectorsFreezeFourUlpsAndTheContractFactors) {
  EXPECT_EQ(kConformanceFloor.ulps, 4.0);
  EXPECT_EQ(kConformanceFloor.at(0.5), 4.0 * FLT_EPSILON);
  EXPECT_EQ(kConformanceFloor.at(3.0), 4.0 * FLT_EPSILON * 3.0);
  EXPECT_EQ(kAttentionFactor, 2.0);
  EXPECT_EQ(kExtremeScoreFactor, 4.0);
  EXPECT_EQ(kModelJobFactor, 4.0);
}

// The engine's precisions are judged as the precision they are held to (docs/precisions.md).
TEST(ToleranceTests, EnginePrecisionsAreJudgedAsThePrecisionTheyAreHeldTo) {
  EXPECT_EQ(engine_precision_judged_as("float32"), Precision::kFloat32);
  EXPECT_EQ(engine_precision_judged_as("tf32x3"), Precision::kFloat32);
  EXPECT_EQ(engine_precision_judged_as("tf32"), Precision::kTf32);
  for (const std::string& name : kJudgedEnginePrecisions) EXPECT_TRUE(engine_precision_judged_as(name)) << name;
  EXPECT_FALSE(engine_precision_judged_as("mixed"));
  EXPECT_FALSE(engine_precision_judged_as("bf16"));
}

// Each precision's floor counts ulps of the format holding the output (precision.hpp).
TEST(ToleranceTests, PrecisionsNameTheirFormatsAndTheConformanceFloorCountsTheirUlps) {
  EXPECT_EQ(precision_names(), "float32, tf32, bf16, fp16");
  EXPECT_EQ(parse_precision("bf16"), Precision::kBf16);
  EXPECT_FALSE(parse_precision("float16"));
  EXPECT_EQ(output_format(Precision::kTf32), UlpFormat::kFloat32);
  EXPECT_EQ(ulp_of_one(output_format(Precision::kBf16)), 0x1p-7);
  EXPECT_EQ(ulp_of_one(output_format(Precision::kFp16)), 0x1p-10);
  EXPECT_EQ(conformance_floor(UlpFormat::kFloat32).at(3.0), kConformanceFloor.at(3.0));
  EXPECT_EQ(conformance_floor(UlpFormat::kBFloat16).at(0.5), 2.0 * 0x1p-7);
  EXPECT_EQ(conformance_floor(UlpFormat::kFloat16).at(2.0), 2.0 * 0x1p-10 * 2.0);
}

TEST(ToleranceTests, LimitIsFactorTimesPlainErrorPlusFloor) {
  const Bound bound{2.0, 1e-7, 5e-7};
  EXPECT_EQ(bound.limit(), 2.0 * 1e-7 + 5e-7);
  EXPECT_TRUE(within_limit(bound.limit(), bound.limit()));
  EXPECT_FALSE(within_limit(std::nextafter(bound.limit(), kInf), bound.limit()));
  EXPECT_FALSE(within_limit(kNaN, 1.0));
  EXPECT_EQ(fraction_of_limit(1.0, 4.0), 0.25);
  EXPECT_EQ(fraction_of_limit(0.0, 0.0), 0.0);
  EXPECT_EQ(fraction_of_limit(1e-9, 0.0), kInf);
  EXPECT_TRUE(std::isnan(fraction_of_limit(kNaN, 0.0)));  // a NaN result is never hidden
  EXPECT_TRUE(std::isnan(fraction_of_limit(kNaN, 1.0)));
}

TEST(ToleranceTests, CheckHoldsTheMaxErrorToFactorTimesThePlainErrorPlusFloor) {
  const std::vector<double> reference{1.0, -1.0};
  const std::vector<float> plain{1.0f + 0x1p-20f, -1.0f};  // plain error 2^-20
  const Check at_limit = check("out", reference, std::vector<float>{1.0f + 0x1p-19f, -1.0f}, plain, 2.0, 0.0);
  EXPECT_TRUE(at_limit.ok) << at_limit.text;
  EXPECT_EQ(at_limit.bound.plain_error, 0x1p-20);
  EXPECT_EQ(at_limit.ratio(), 2.0);
  const Check over = check("out", reference, std::vector<float>{1.0f, -1.0f - 3 * 0x1p-20f}, plain, 2.0, 0.0);
  EXPECT_FALSE(over.ok);
  EXPECT_EQ(over.got.worst, 1u);
  EXPECT_NE(over.text.find("out: max |err|"), std::string::npos) << over.text;
  // The floor lets a result differ where the plain result happens to be exact.
  const std::vector<float> exact{1.0f, -1.0f};
  EXPECT_FALSE(check("out", reference, std::vector<float>{1.0f + 0x1p-23f, -1.0f}, exact, 2.0, 0.0).ok);
  EXPECT_TRUE(check("out", reference, std::vector<float>{1.0f + 0x1p-23f, -1.0f}, exact, 2.0,
                    kLayerFloor.of(reference)).ok);
  // The plain result may come as double holding float values: the same check.
  const std::vector<double> plain_wide(plain.begin(), plain.end());
  EXPECT_EQ(check("out", reference, std::vector<float>{1.0f, -1.0f - 3 * 0x1p-20f}, plain_wide, 2.0, 0.0).ok, false);
}

TEST(ToleranceTests, CheckWantsInfinitiesExactlyAndNeverPassesNaN) {
  const std::vector<double> reference{-kInf, 1.0};
  const std::vector<float> plain{-kInfF, 1.0f};
  EXPECT_TRUE(check("lse", reference, plain, plain, 2.0, 0.0).ok);
  const Check positive = check("lse", reference, std::vector<float>{kInfF, 1.0f}, plain, 2.0, 1.0);
  EXPECT_FALSE(positive.ok);
  EXPECT_EQ(positive.got.mismatched_nonfinite, 1u);
  EXPECT_FALSE(check("lse", reference, std::vector<float>{-kInfF, std::nanf("")}, plain, 2.0, 1.0).ok);
  EXPECT_FALSE(check("lse", std::vector<double>{kNaN}, std::vector<float>{std::nanf("")},
                     std::vector<float>{std::nanf("")}, 2.0, 1.0).ok);
  EXPECT_FALSE(check("lse", reference, std::vector<float>{-kInfF}, plain, 2.0, 1.0).ok);  // one element short
}

TEST(ToleranceTests, TwoPathsAgreeWithinTheSumOfTheirLimits) {
  const std::vector<double> reference{1.0, 2.0};
  const std::vector<float> plain{1.0f + 0x1p-20f, 2.0f};
  const std::vector<float> a{1.0f + 0x1p-20f, 2.0f}, b{1.0f - 0x1p-20f, 2.0f};
  const Check a_check = check("a", reference, a, plain, 1.0, 0.0), b_check = check("b", reference, b, plain, 1.0, 0.0);
  ASSERT_TRUE(a_check.ok && b_check.ok);
  const Check agree = check_agreement("a vs b", a, a_check, b, b_check);
  EXPECT_TRUE(agree.ok) << agree.text;
  EXPECT_EQ(agree.bound.limit(), 2 * 0x1p-20);
  // A path further from the other than both limits together fails.
  const std::vector<float> c{1.0f - 0x1p-18f, 2.0f};
  EXPECT_FALSE(check_agreement("a vs c", a, a_check, c, b_check).ok);
  const std::vector<float> inf_a{kInfF, 2.0f}, inf_b{-kInfF, 2.0f};
  EXPECT_TRUE(check_agreement("inf", inf_a, a_check, inf_a, b_check).ok);
  EXPECT_FALSE(check_agreement("inf", inf_a, a_check, inf_b, b_check).ok);
}

TEST(ToleranceTests, DoubleRoundingAllowsTheFloatRoundingOnlyWhereTheKernelRounds) {
  const std::vector<double> reference{3.0, -kInf};
  const std::vector<double> rounded{3.0 + 0x1p-23, -kInf};  // within 2^-24 |3|
  std::string where;
  EXPECT_TRUE(within_double_rounding(reference, rounded, 0x1p-50, true, where)) << where;
  EXPECT_FALSE(within_double_rounding(reference, rounded, 0x1p-50, false, where));
  EXPECT_NE(where.find("element 0"), std::string::npos) << where;
  EXPECT_FALSE(within_double_rounding(reference, std::vector<double>{3.0, kNaN}, 1.0, true, where));
  EXPECT_FALSE(within_double_rounding(reference, std::vector<double>{3.0}, 1.0, true, where));
}

TEST(ToleranceTests, BitwiseEqualSeesSignedZerosAndNaNPayloads) {
  std::string where;
  EXPECT_TRUE(bitwise_equal(std::vector<float>{1.0f, std::nanf("1")}, std::vector<float>{1.0f, std::nanf("1")}));
  EXPECT_FALSE(bitwise_equal(std::vector<float>{0.0f}, std::vector<float>{-0.0f}, &where));
  EXPECT_NE(where.find("element 0"), std::string::npos) << where;
  EXPECT_FALSE(bitwise_equal(std::vector<float>{std::nanf("1")}, std::vector<float>{std::nanf("2")}));
  EXPECT_FALSE(bitwise_equal(std::vector<float>{1.0f}, std::vector<float>{}, &where));
  EXPECT_NE(where.find("sizes 1 vs 0"), std::string::npos) << where;
}

TEST(ToleranceTests, RatioLogSummarisesErrorOverPlainError) {
  RatioLog log;
  EXPECT_EQ(log.summary("kernel"), "");
  log.add("kernel", 2e-7, Bound{3.0, 1e-7, 1e-7});  // ratio 2, above the floor
  log.add("kernel", 5e-8, Bound{3.0, 1e-7, 1e-7});  // ratio 0.5, under the floor
  log.add("kernel", 1e-8, Bound{3.0, 0.0, 1e-7});   // exact plain baseline
  const std::string line = log.summary("kernel");
  EXPECT_NE(line.find("[ratio] kernel: error / plain error over 3 checks (1 with an exact plain baseline)"),
            std::string::npos) << line;
  EXPECT_NE(line.find("median 0.5"), std::string::npos) << line;
  EXPECT_NE(line.find("max 2; max 2 over the 1 checks whose error exceeds the floor"), std::string::npos) << line;
  EXPECT_NE(line.find("largest error 2e-07; factor 3"), std::string::npos) << line;
}

TEST(ToleranceTests, NearestRankQuantile) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  EXPECT_EQ(nearest_rank_quantile(v, 0.5), 50.0);
  EXPECT_EQ(nearest_rank_quantile(v, 0.99), 99.0);
  EXPECT_EQ(nearest_rank_quantile(v, 1.0), 100.0);
  std::vector<double> none;
  EXPECT_EQ(nearest_rank_quantile(none, 0.5), 0.0);
  std::vector<float> one{3.5f};  // floats too (the checker's errors)
  EXPECT_EQ(nearest_rank_quantile(one, 0.99), 3.5f);
}

}  // namespace
}  // namespace artabpfn::tolerance
