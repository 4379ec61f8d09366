// Properties of kernels::tensor_core_linear (kernels/layer.hpp) on the GPU, against the double
// reference with the tolerance rule (tolerance/rule.hpp) of the precision each arithmetic is held
// to (docs/precisions.md, "The engine's precisions on the GPU"):
//   tf32x3  the float32 rule of linear: factor x the plain float32 error + linear's floor;
//   tf32    the same factor and floor over the plain TF32 error (x and W rounded to TF32, then
//           float32 products and sums).
// Each property prints its measured error / plain error ratios ("[ratio]"). Every launch writes
// into a poisoned, guard-banded output checked after the launch (tests/support/gpu/).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "properties/gpu_layer/generators.hpp"
#include "tests/support/gpu/linear_harness.hpp"
#include "tests/support/gpu_available.hpp"
#include "tolerance/bitwise.hpp"
#include "tolerance/constants.hpp"
#include "tolerance/ratio_log.hpp"

namespace {

using namespace artabpfn::gpu_layer_test;
using artabpfn::kernels::TensorCoreArithmetic;
namespace tolerance = artabpfn::tolerance;

Epilogue any_epilogue() { return *rc::gen::arbitrary<bool>() ? Epilogue::kGelu : Epilogue::kNone; }

// A random case of rows x in -> out, shapes growing with RapidCheck's size: tiles of 64 rows and
// 32 outputs, k blocks of 32 and k-steps of 8 all split unevenly.
LinearCase any_linear_case() {
  const auto rows = *rc::gen::inRange<std::int64_t>(0, 200);
  const int in = *rc::gen::inRange(1, 300);
  const int out = *rc::gen::inRange(1, 200);
  const bool with_bias = *rc::gen::arbitrary<bool>();
  const bool with_residual = *rc::gen::arbitrary<bool>();
  Rng rng(any_seed());
  return random_linear(rng, rows, in, out, with_bias, with_residual, any_epilogue());
}

TEST(LayerProperties, TensorCoreTf32x3MatchesDoubleReferenceAsFloat32) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("tensor_core_linear tf32x3 vs double reference, float32 rule", [] {
    const LinearCase c = any_linear_case();
    const tolerance::Check check =
        tolerance::check("tensor_core_linear tf32x3", flat_double(reference_linear<double>(c)),
                         gpu_tensor_core_linear(c, TensorCoreArithmetic::kTf32x3),
                         flat_float(reference_linear<float>(c)), tolerance::kLinearFactor, linear_floor(c));
    tolerance::RatioLog::global().add("tensor_core_linear tf32x3", check);
    RC_LOG() << check.text << "\n";
    RC_ASSERT(check.ok);
  }));
  tolerance::RatioLog::global().print("tensor_core_linear tf32x3");
}

TEST(LayerProperties, TensorCoreTf32MatchesDoubleReferenceAsTf32) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("tensor_core_linear tf32 vs double reference, tf32 rule", [] {
    const LinearCase c = any_linear_case();
    const tolerance::Check check =
        tolerance::check("tensor_core_linear tf32", flat_double(reference_linear<double>(c)),
                         gpu_tensor_core_linear(c, TensorCoreArithmetic::kTf32), flat_float(reference_linear_tf32(c)),
                         tolerance::kLinearFactor, linear_floor(c));
    tolerance::RatioLog::global().add("tensor_core_linear tf32", check);
    RC_LOG() << check.text << "\n";
    RC_ASSERT(check.ok);
  }));
  tolerance::RatioLog::global().print("tensor_core_linear tf32");
}

// TF32 is coarser than float32: on cases with many terms the tf32 arithmetic's error is larger
// than the float32 linear's, and the split one's is not (checks that the two arithmetics differ
// as designed, and that tf32x3 is not tf32 under another name).
TEST(LayerProperties, TensorCoreTf32IsCoarserThanTf32x3) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("tensor_core_linear: tf32 error > tf32x3 error", [] {
    const auto rows = *rc::gen::inRange<std::int64_t>(16, 100);
    const int in = *rc::gen::inRange(64, 300);
    const int out = *rc::gen::inRange(16, 100);
    Rng rng(any_seed());
    const LinearCase c = random_linear(rng, rows, in, out, false, false, Epilogue::kNone);
    const std::vector<double> expected = flat_double(reference_linear<double>(c));
    const auto worst = [&](const std::vector<float>& got) {
      double e = 0.0;
      for (std::size_t i = 0; i < got.size(); ++i) e = std::max(e, std::abs(double(got[i]) - expected[i]));
      return e;
    };
    const double tf32 = worst(gpu_tensor_core_linear(c, TensorCoreArithmetic::kTf32));
    const double tf32x3 = worst(gpu_tensor_core_linear(c, TensorCoreArithmetic::kTf32x3));
    RC_LOG() << "tf32 " << tf32 << ", tf32x3 " << tf32x3 << "\n";
    RC_ASSERT(tf32 > 16.0 * tf32x3);
  }));
}

// Row r's output is bitwise the same whatever the number of rows and whatever the other rows are,
// in both arithmetics.
TEST(LayerProperties, TensorCoreLinearIsBitwiseBatchInvariant) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("tensor_core_linear batch invariance", [] {
    const auto arithmetic = *rc::gen::element(TensorCoreArithmetic::kTf32, TensorCoreArithmetic::kTf32x3);
    const int in = *rc::gen::inRange(1, 300);
    const int out = *rc::gen::inRange(1, 200);
    const auto rows_a = *rc::gen::inRange<std::int64_t>(1, 300);
    const auto rows_b = *rc::gen::inRange<std::int64_t>(1, 300);
    const auto at_a = *rc::gen::inRange<std::int64_t>(0, rows_a);
    const auto at_b = *rc::gen::inRange<std::int64_t>(0, rows_b);
    const bool with_bias = *rc::gen::arbitrary<bool>();
    const bool with_residual = *rc::gen::arbitrary<bool>();
    const Epilogue act = any_epilogue();
    Rng rng(any_seed());
    LinearCase a = random_linear(rng, rows_a, in, out, with_bias, with_residual, act);
    LinearCase b = random_linear(rng, rows_b, in, out, with_bias, with_residual, act);
    b.weight = a.weight;
    b.bias = a.bias;
    std::copy_n(a.x.begin() + at_a * in, in, b.x.begin() + at_b * in);
    if (with_residual) std::copy_n(a.residual.begin() + at_a * out, out, b.residual.begin() + at_b * out);
    const std::vector<float> ya = gpu_tensor_core_linear(a, arithmetic), yb = gpu_tensor_core_linear(b, arithmetic);
    const std::vector<float> row_a(ya.begin() + at_a * out, ya.begin() + (at_a + 1) * out);
    const std::vector<float> row_b(yb.begin() + at_b * out, yb.begin() + (at_b + 1) * out);
    RC_ASSERT(tolerance::bitwise_equal(row_a, row_b));
  }));
}

}  // namespace
