// Named, deterministic edge cases of the reference model: each is a shape that implementations
// of this model have got wrong (an empty context, a single target, more targets than AR tokens,
// head dims that are not powers of two). Both jobs must stay finite and agree.
#include <gtest/gtest.h>

#include "reference/reference.hpp"
#include "tests/support/random_model.hpp"

namespace artabpfn::test_support {
namespace {

using reference::InputMatrix;

struct EdgeCase {
  const char* name;
  SmallCase c;
};

ModelConfig config(int heads, int head_dim, int layers, int buffer) {
  ModelConfig c;
  c.n_heads = heads;
  c.d_model = heads * head_dim;
  c.n_layers = layers;
  c.d_ff = 7;
  c.buffer_size = buffer;
  c.num_components = 3;
  return c;
}

void PrintTo(const EdgeCase& e, std::ostream* os) { *os << e.name; }

class ReferenceEdgeCases : public ::testing::TestWithParam<EdgeCase> {};

TEST_P(ReferenceEdgeCases, BothJobsFiniteAndEqual) {
  const SmallCase& c = GetParam().c;
  std::mt19937_64 engine(c.seed);
  const auto params = reference::ModelParams<double>::from_weights(random_weights(c.config, c.seed));
  const reference::TaskInputs task = random_task(engine, c.nc, c.nt, c.features);
  const Eigen::VectorXd y = random_values(engine, c.nt);
  const auto tf = reference::teacher_forcing(params, task, y).logpdf;
  const auto ar = reference::forced_ar_logpdf(params, task, InputMatrix(y.transpose()));
  ASSERT_TRUE(tf.allFinite());
  ASSERT_TRUE(ar.allFinite());
  for (Eigen::Index t = 0; t < c.nt; ++t) EXPECT_NEAR(ar(0, t), tf(t), 1e-10 * std::max(1.0, std::abs(tf(t))));
  const auto samples = reference::sample_sequence(params, task, 5, {c.seed, 0, 2});
  EXPECT_TRUE(samples.allFinite());
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ReferenceEdgeCases,
    ::testing::Values(EdgeCase{"EmptyContext", {config(2, 3, 2, 4), 11, 0, 5, 2}},
                      EdgeCase{"EmptyContextSingleTarget", {config(1, 4, 1, 2), 12, 0, 1, 1}},
                      EdgeCase{"SingleContextRow", {config(2, 5, 2, 3), 13, 1, 4, 3}},
                      EdgeCase{"SingleTarget", {config(3, 3, 2, 2), 14, 6, 1, 2}},
                      EdgeCase{"TargetsWrapAroundArTokensTwice", {config(2, 4, 2, 3), 15, 4, 10, 2}},
                      EdgeCase{"HeadDimFive", {config(2, 5, 1, 4), 16, 3, 4, 1}},
                      EdgeCase{"HeadDimOne", {config(4, 1, 2, 4), 17, 3, 4, 2}},
                      EdgeCase{"ManyFeatures", {config(2, 3, 1, 4), 18, 3, 3, 9}}),
    [](const ::testing::TestParamInfo<EdgeCase>& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace artabpfn::test_support
