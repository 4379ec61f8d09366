#pragma once
// The batch-invariance property of a linear launcher (kernels::linear, kernels::tensor_core_linear),
// inside a RapidCheck property: a row shared by two random cases gives the same bits in both
// launches whatever the rows beside it, and a prefix of a case's rows launched alone gives the
// bits of the full launch.
#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "properties/gpu_layer/generators.hpp"
#include "tests/support/gpu/linear_harness.hpp"
#include "tolerance/bitwise.hpp"

namespace artabpfn::gpu_layer_test {

inline Epilogue any_epilogue() { return *rc::gen::arbitrary<bool>() ? Epilogue::kGelu : Epilogue::kNone; }

// launch(const LinearCase&) -> std::vector<float>, the case's output.
template <class Launch>
void assert_linear_batch_invariant(Launch&& launch) {
  const int in = *rc::gen::inRange(1, 300);
  const int out = *rc::gen::inRange(1, 200);
  const auto rows_a = *rc::gen::inRange<std::int64_t>(1, 300);
  // Up to 4000 rows: the whole-k tiles of 8, 16 and 64 rows (kernels/layer/whole_k.cuh).
  const auto rows_b = *rc::gen::oneOf(rc::gen::inRange<std::int64_t>(1, 300), rc::gen::inRange<std::int64_t>(2049, 4001));
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
  // The shared row: the same x row and residual row at position at_a of a and at_b of b.
  std::copy_n(a.x.begin() + at_a * in, in, b.x.begin() + at_b * in);
  if (with_residual) std::copy_n(a.residual.begin() + at_a * out, out, b.residual.begin() + at_b * out);
  const std::vector<float> ya = launch(a), yb = launch(b);
  const std::vector<float> row_a(ya.begin() + at_a * out, ya.begin() + (at_a + 1) * out);
  const std::vector<float> row_b(yb.begin() + at_b * out, yb.begin() + (at_b + 1) * out);
  RC_ASSERT(tolerance::bitwise_equal(row_a, row_b));
  LinearCase prefix = a;
  prefix.rows = at_a + 1;
  prefix.x.resize(static_cast<std::size_t>(prefix.rows * in));
  if (with_residual) prefix.residual.resize(static_cast<std::size_t>(prefix.rows * out));
  const std::vector<float> yp = launch(prefix);
  RC_ASSERT(tolerance::bitwise_equal(yp, std::vector<float>(ya.begin(), ya.begin() + prefix.rows * out)));
}

}  // namespace artabpfn::gpu_layer_test
