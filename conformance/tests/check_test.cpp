// The comparison rules of `artabpfn check` (conformance/check.hpp) on hand-made cases.
#include <gtest/gtest.h>

#include <limits>

#include "conformance/check.hpp"

namespace artabpfn::conformance {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

CaseSpec spec_with(const std::string& output, double limit, const std::string& dtype = "F64") {
  CaseSpec spec;
  spec.name = "test.case";
  spec.contract = "merge_states";
  spec.file = "test.case.safetensors";
  spec.precisions = {tolerance::Precision::kFloat32};
  OutputSpec o;
  o.name = output;
  o.dtype = dtype;
  o.tolerances[tolerance::Precision::kFloat32] = {2.0, limit / 4, limit / 2, limit, {}};
  spec.outputs.push_back(o);
  return spec;
}

CaseFile vectors_with(const std::string& output, Tensor expected) {
  CaseFile f;
  f.expected[output] = std::move(expected);
  return f;
}

TEST(ConformanceTests, CheckWithinTheLimitPassesAndTheWorstElementIsNamed) {
  const CaseSpec spec = spec_with("out", 1e-3);
  const CaseFile vectors = vectors_with("out", Tensor::f64({2, 2}, {1.0, 2.0, 3.0, 4.0}));
  const CaseCheck pass = check_case(spec, vectors, {{"out", Tensor::f64({2, 2}, {1.0, 2.0005, 3.0, 4.0})}});
  EXPECT_EQ(pass.status, "pass");
  const CaseCheck fail = check_case(spec, vectors, {{"out", Tensor::f64({2, 2}, {1.0, 2.0, 3.01, 4.0})}});
  ASSERT_EQ(fail.status, "fail");
  EXPECT_EQ(fail.outputs[0].worst_position, (std::vector<std::int64_t>{1, 0}));
  EXPECT_DOUBLE_EQ(fail.outputs[0].worst_got, 3.01);
}

TEST(ConformanceTests, CheckExpectedNaNIsNotComparedButResultNaNFails) {
  const CaseSpec spec = spec_with("logpdf", 1e-3);
  const CaseFile vectors = vectors_with("logpdf", Tensor::f64({3}, {1.0, kNaN, 2.0}));
  EXPECT_EQ(check_case(spec, vectors, {{"logpdf", Tensor::f64({3}, {1.0, 123.0, 2.0})}}).status, "pass");
  const CaseCheck c = check_case(spec, vectors, {{"logpdf", Tensor::f64({3}, {kNaN, 0.0, 2.0})}});
  EXPECT_EQ(c.status, "fail");
  EXPECT_EQ(c.outputs[0].nonfinite_mismatches, 1);
}

TEST(ConformanceTests, CheckInfinitiesMustMatchExactly) {
  const CaseSpec spec = spec_with("lse", 1e-3);
  const CaseFile vectors = vectors_with("lse", Tensor::f64({2}, {-kInf, 0.5}));
  EXPECT_EQ(check_case(spec, vectors, {{"lse", Tensor::f64({2}, {-kInf, 0.5})}}).status, "pass");
  EXPECT_EQ(check_case(spec, vectors, {{"lse", Tensor::f64({2}, {-1e30, 0.5})}}).status, "fail");
  EXPECT_EQ(check_case(spec, vectors, {{"lse", Tensor::f64({2}, {kInf, 0.5})}}).status, "fail");
}

TEST(ConformanceTests, CheckShapeAndMissingTensorFail) {
  const CaseSpec spec = spec_with("out", 1e-3);
  const CaseFile vectors = vectors_with("out", Tensor::f64({2, 2}, {1, 2, 3, 4}));
  EXPECT_EQ(check_case(spec, vectors, {{"out", Tensor::f64({4}, {1, 2, 3, 4})}}).status, "fail");
  EXPECT_EQ(check_case(spec, vectors, {{"other", Tensor::f64({2, 2}, {1, 2, 3, 4})}}).status, "fail");
}

TEST(ConformanceTests, CheckIntegersMustBeEqualExceptWhereExpectedIsMinusOne) {
  const CaseSpec spec = spec_with("component", 0.0, "I64");
  const CaseFile vectors = vectors_with("component", Tensor::i64({3}, {2, -1, 0}));
  EXPECT_EQ(check_case(spec, vectors, {{"component", Tensor::i64({3}, {2, 7, 0})}}).status, "pass");
  EXPECT_EQ(check_case(spec, vectors, {{"component", Tensor::i64({3}, {1, 7, 0})}}).status, "fail");
}

TEST(ConformanceTests, CheckResultFilesRoundTripThroughSafetensors) {
  const std::filesystem::path path = std::filesystem::temp_directory_path() / "artabpfn_conformance_check_test.safetensors";
  write_result_file(path, {{"out", Tensor::f32({2}, {0.5, -kInf})}, {"component", Tensor::i64({1}, {3})}});
  const ResultFile r = read_result_file(path);
  std::filesystem::remove(path);
  EXPECT_EQ(r.at("out").values[1], -kInf);
  EXPECT_EQ(r.at("component").ints[0], 3);
}

}  // namespace
}  // namespace artabpfn::conformance
