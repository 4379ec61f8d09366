// Properties of kernels::tensor_core_linear (kernels/layer.hpp) on the GPU, against the double
// reference with the tolerance rule (tolerance/rule.hpp) of the precision each arithmetic is held
// to (docs/precisions.md, "The engine's precisions on the GPU"):
//   tf32x3  the float32 rule of linear (factor x the plain error + linear's floor) over the larger
//           of the plain float32 and the plain split TF32 errors (tf32x3_baseline: the split keeps
//           22 of float32's 24 bits, which shows where k is small);
//   tf32    the same factor and floor over the plain TF32 error (x and W rounded to TF32, then
//           float32 products and sums).
// Each property prints its measured error / plain error ratios ("[ratio]"). Every launch writes
// into a poisoned, guard-banded output checked after the launch (tests/support/gpu/).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdint>
#include <string>
#include <vector>

#include "properties/gpu_layer/generators.hpp"
#include "properties/gpu_layer/linear_batch_invariance.hpp"
#include "tests/support/gpu/linear_harness.hpp"
#include "tests/support/gpu_available.hpp"
#include "tolerance/constants.hpp"
#include "tolerance/ratio_log.hpp"
#include "tolerance/rule.hpp"

namespace {

using namespace artabpfn::gpu_layer_test;
using artabpfn::kernels::TensorCoreArithmetic;
namespace tolerance = artabpfn::tolerance;

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

// The rule for `name`: the error against the double reference within tolerance::kLinearFactor x
// the error of plain(c), the plain implementation of the precision it is held to, + linear's floor.
template <class Plain>
void check_rule(TensorCoreArithmetic arithmetic, const std::string& name, Plain&& plain) {
  EXPECT_TRUE(rc::check(name + " vs double reference", [&] {
    const LinearCase c = any_linear_case();
    const tolerance::Check check =
        tolerance::check(name, flat_double(reference_linear<double>(c)), gpu_tensor_core_linear(c, arithmetic),
                         plain(c), tolerance::kLinearFactor, linear_floor(c));
    tolerance::RatioLog::global().add(name, check);
    RC_LOG() << check.text << "\n";
    RC_ASSERT(check.ok);
  }));
  tolerance::RatioLog::global().print(name);
}

TEST(LayerProperties, TensorCoreTf32x3MatchesDoubleReference) {
  ARTABPFN_REQUIRE_GPU();
  check_rule(TensorCoreArithmetic::kTf32x3, "tensor_core_linear tf32x3", tf32x3_baseline);
}

TEST(LayerProperties, TensorCoreTf32MatchesDoubleReferenceAsTf32) {
  ARTABPFN_REQUIRE_GPU();
  check_rule(TensorCoreArithmetic::kTf32, "tensor_core_linear tf32",
             [](const LinearCase& c) { return flat_float(reference_linear_tf32(c)); });
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
    const tolerance::ErrorStats tf32 = tolerance::compare(expected, gpu_tensor_core_linear(c, TensorCoreArithmetic::kTf32));
    const tolerance::ErrorStats tf32x3 =
        tolerance::compare(expected, gpu_tensor_core_linear(c, TensorCoreArithmetic::kTf32x3));
    RC_LOG() << "tf32 " << tf32.max_abs << ", tf32x3 " << tf32x3.max_abs << "\n";
    RC_ASSERT(tf32.mismatched_nonfinite == 0u && tf32x3.mismatched_nonfinite == 0u);
    RC_ASSERT(tf32.max_abs > 16.0 * tf32x3.max_abs);
  }));
}

// Row r's output is bitwise the same whatever the number of rows and whatever the other rows are,
// in both arithmetics.
TEST(LayerProperties, TensorCoreLinearIsBitwiseBatchInvariant) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("tensor_core_linear batch invariance", [] {
    const auto arithmetic = *rc::gen::element(TensorCoreArithmetic::kTf32, TensorCoreArithmetic::kTf32x3);
    assert_linear_batch_invariant([arithmetic](const LinearCase& c) { return gpu_tensor_core_linear(c, arithmetic); });
  }));
}

}  // namespace
