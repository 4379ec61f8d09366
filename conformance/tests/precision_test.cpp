// The precisions of the conformance vectors (docs/precisions.md): the roundings of the plain
// implementations, the schema version 2 index (and version 1 read as float32), and `check` in a
// precision (its limits, cases that do not serve it, the reports naming it).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "artabpfn/error.hpp"
#include "conformance/check.hpp"
#include "conformance/plain/arithmetic.hpp"
#include "tests/support/temp_dir.hpp"

namespace artabpfn::conformance {
namespace {

using tolerance::Precision;
constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(ConformanceTests, RoundingToTf32KeepsTenMantissaBitsToNearestOrTruncated) {
  const float u = 0x1p-10f;  // the TF32 ulp of 1
  EXPECT_EQ(plain::round_tf32_nearest(1 + 0.75f * u), 1 + u);
  EXPECT_EQ(plain::round_tf32_nearest(1 + 0.25f * u), 1.0f);
  EXPECT_EQ(plain::round_tf32_nearest(1 + 0.5f * u), 1 + u);  // a tie goes away from zero, as cvt.rna
  EXPECT_EQ(plain::round_tf32_nearest(-(1 + 0.5f * u)), -(1 + u));
  EXPECT_EQ(plain::round_tf32_truncated(1 + 0.999f * u), 1.0f);
  EXPECT_EQ(plain::round_tf32_truncated(-(1 + 0.75f * u)), -1.0f);  // toward zero, not toward -infinity
  EXPECT_EQ(plain::round_tf32_nearest(1 + u), 1 + u);                // TF32 values are kept
  EXPECT_EQ(plain::round_tf32_truncated(kInf), kInf);
  EXPECT_TRUE(std::isnan(plain::round_tf32_nearest(std::nanf(""))));
}

TEST(ConformanceTests, RoundingToBf16AndFp16IsToNearestEvenWithTheFormatsRanges) {
  const float b = 0x1p-7f, h = 0x1p-10f;  // the ulps of 1
  EXPECT_EQ(plain::round_bf16(1 + 0.5f * b), 1.0f);            // a tie goes to even
  EXPECT_EQ(plain::round_bf16(1 + 1.5f * b), 1 + 2 * b);
  EXPECT_EQ(plain::round_bf16(1 + 0.51f * b), 1 + b);
  EXPECT_EQ(plain::round_bf16(3e38f), 3.0040553e38f);         // bf16 has float32's range
  EXPECT_EQ(plain::round_fp16(1 + 0.5f * h), 1.0f);
  EXPECT_EQ(plain::round_fp16(1 + 1.5f * h), 1 + 2 * h);
  EXPECT_EQ(plain::round_fp16(65504.0f), 65504.0f);           // the largest binary16
  EXPECT_EQ(plain::round_fp16(65519.0f), 65504.0f);
  EXPECT_EQ(plain::round_fp16(65520.0f), kInf);               // rounds past it: infinity
  EXPECT_EQ(plain::round_fp16(-1e5f), -kInf);
  EXPECT_EQ(plain::round_fp16(0x1p-24f), 0x1p-24f);           // the smallest subnormal
  EXPECT_EQ(plain::round_fp16(0x1.8p-24f), 0x1p-23f);         // a tie between subnormals, to even
  EXPECT_EQ(plain::round_fp16(0x1p-26f), 0.0f);
  EXPECT_EQ(plain::round_fp16(0x1.0004p-14f), 0x1p-14f);      // the smallest normal's neighbourhood
}

TEST(ConformanceTests, EachPrecisionHasItsArithmeticsAndNames) {
  EXPECT_EQ(plain::arithmetics(Precision::kTf32),
            (std::vector<plain::Arithmetic>{plain::Arithmetic::kTf32Nearest, plain::Arithmetic::kTf32Truncated}));
  for (Precision p : tolerance::kPrecisions) {
    EXPECT_EQ(tolerance::parse_precision(tolerance::precision_name(p)), p);
    for (plain::Arithmetic a : plain::arithmetics(p)) {
      EXPECT_EQ(plain::precision_of(a), p);
      EXPECT_EQ(plain::parse_arithmetic(plain::arithmetic_name(a)), a);
    }
  }
  EXPECT_FALSE(tolerance::parse_precision("fp8"));
  EXPECT_THROW(plain::parse_arithmetic("tf32"), InputError);
  // Every contract serves float32; the attention contracts and the merge serve all four.
  for (const ContractInfo& c : contracts()) {
    EXPECT_EQ(c.precisions.front(), Precision::kFloat32) << c.name;
    if (!c.uses_model) {
      EXPECT_EQ(c.precisions.size(), 4u) << c.name;
    }
  }
  EXPECT_EQ(contract("sampler").precisions, std::vector<Precision>{Precision::kFloat32});
  EXPECT_EQ(contract("prefill_kv").precisions, (std::vector<Precision>{Precision::kFloat32, Precision::kTf32}));
}

// A merge_states case serving float32 and bf16, one output "out" with limit 1e-6 (float32) and
// 1e-2 (bf16), and an expected value of 1.
CaseSpec two_precision_case() {
  CaseSpec spec;
  spec.name = "merge_states.two";
  spec.contract = "merge_states";
  spec.file = "merge_states.two.safetensors";
  spec.precisions = {Precision::kFloat32, Precision::kBf16};
  OutputSpec o;
  o.name = "out";
  o.dtype = "F64";
  o.shape = {1};
  o.compared = 1;
  o.max_abs_expected = 1.0;
  o.tolerances[Precision::kFloat32] = {2.0, 1e-7, 8e-7, 1e-6, {}};
  o.tolerances[Precision::kBf16] = {2.0, 4e-3, 2e-3, 1e-2, {}};
  spec.outputs.push_back(o);
  return spec;
}

TEST(ConformanceTests, CheckUsesTheLimitOfThePrecisionAsked) {
  const CaseSpec spec = two_precision_case();
  CaseFile vectors;
  vectors.expected["out"] = Tensor::f64({1}, {1.0});
  const ResultFile bf16_like{{"out", Tensor::f64({1}, {1.0 + 3e-3})}};
  EXPECT_EQ(check_case(spec, vectors, bf16_like, Precision::kFloat32).status, "fail");
  const CaseCheck c = check_case(spec, vectors, bf16_like, Precision::kBf16);
  EXPECT_EQ(c.status, "pass");
  EXPECT_EQ(c.outputs[0].limit, 1e-2);
  EXPECT_EQ(c.outputs[0].plain_error, 4e-3);
  const CaseCheck tf32 = check_case(spec, vectors, bf16_like, Precision::kTf32);
  EXPECT_EQ(tf32.status, kNotApplicable);
  EXPECT_EQ(tf32.message, "not applicable: the case serves float32, bf16, not tf32");
  EXPECT_FALSE(is_failure(tf32.status));
}

// index.json with one case written by write_index, a result file, and run_check in a precision.
struct OneCaseVectors {
  test_support::TempDir dir;
  std::filesystem::path vectors = dir / "vectors", results = dir / "results";
  OneCaseVectors() {
    std::filesystem::create_directories(vectors);
    std::filesystem::create_directories(results);
    Index index;
    index.set = "quick";
    index.seed = 7;
    index.generator = "test";
    index.random_stream = "test";
    index.cases.push_back(two_precision_case());
    index.cases.back().outputs[0].tolerances[Precision::kBf16].plain_errors = {{"bf16", 4e-3}};
    write_index(index, vectors / "index.json");
    CaseFile file;
    file.inputs = {{"out1", Tensor::f32({1, 1}, {1.0})}};
    file.expected["out"] = Tensor::f64({1}, {1.0});
    write_case_file(vectors / "merge_states.two.safetensors", file, "merge_states.two", "merge_states");
    write_result_file(results / "merge_states.two.safetensors", {{"out", Tensor::f32({1}, {1.0 + 3e-3})}});
  }
  CheckReport check(Precision precision) const {
    CheckOptions options;
    options.vectors = vectors;
    options.results = results;
    options.precision = precision;
    return run_check(options);
  }
};

TEST(ConformanceTests, IndexVersion2RoundTripsEveryPrecisionsTolerance) {
  const OneCaseVectors v;
  const Index index = read_index(v.vectors / "index.json");
  EXPECT_EQ(index.schema_version, 2);
  ASSERT_EQ(index.cases.size(), 1u);
  const CaseSpec& c = index.cases[0];
  EXPECT_EQ(c.precisions, (std::vector<Precision>{Precision::kFloat32, Precision::kBf16}));
  const Tolerance& bf16 = c.outputs[0].tolerances.at(Precision::kBf16);
  EXPECT_EQ(bf16.limit, 1e-2);
  EXPECT_EQ(bf16.plain_error, 4e-3);
  EXPECT_EQ(bf16.plain_errors.at("bf16"), 4e-3);
  EXPECT_EQ(c.outputs[0].tolerances.at(Precision::kFloat32).limit, 1e-6);
  // The version 1 key stays, equal to the float32 tolerance.
  std::ifstream in(v.vectors / "index.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  const nlohmann::json& out = j.at("cases")[0].at("outputs").at("out");
  EXPECT_EQ(out.at("tolerance").at("limit").get<double>(), 1e-6);
  EXPECT_EQ(out.at("tolerance").at("float32_error").get<double>(), 1e-7);
  EXPECT_EQ(out.at("tolerances").at("bf16").at("limit").get<double>(), 1e-2);
  EXPECT_EQ(j.at("cases")[0].at("precisions"), nlohmann::json({"float32", "bf16"}));
}

TEST(ConformanceTests, IndexVersion1IsReadAsFloat32Only) {
  const OneCaseVectors v;
  nlohmann::ordered_json j;
  {
    std::ifstream in(v.vectors / "index.json");
    j = nlohmann::ordered_json::parse(in);
  }
  j["schema_version"] = 1;
  for (auto& c : j["cases"]) {
    c.erase("precisions");
    for (auto& [name, o] : c["outputs"].items()) o.erase("tolerances");
  }
  std::ofstream(v.vectors / "index.json") << j.dump(1);
  const Index index = read_index(v.vectors / "index.json");
  EXPECT_EQ(index.cases[0].precisions, std::vector<Precision>{Precision::kFloat32});
  EXPECT_EQ(index.cases[0].outputs[0].tolerances.size(), 1u);
  EXPECT_EQ(index.cases[0].outputs[0].tolerances.at(Precision::kFloat32).limit, 1e-6);
  EXPECT_EQ(v.check(Precision::kBf16).not_applicable, 1);
  j["schema_version"] = 3;
  std::ofstream(v.vectors / "index.json") << j.dump(1);
  EXPECT_THROW(read_index(v.vectors / "index.json"), InputError);
}

TEST(ConformanceTests, CheckInAPrecisionCountsCasesThatDoNotServeItAsNotApplicable) {
  const OneCaseVectors v;
  const CheckReport bf16 = v.check(Precision::kBf16);
  EXPECT_EQ(bf16.passed, 1);
  EXPECT_TRUE(bf16.ok());
  const CheckReport f32 = v.check(Precision::kFloat32);
  EXPECT_EQ(f32.failed, 1);
  EXPECT_FALSE(f32.ok());
  const CheckReport tf32 = v.check(Precision::kTf32);
  EXPECT_EQ(tf32.not_applicable, 1);
  EXPECT_EQ(tf32.failed + tf32.missing + tf32.passed, 0);
  EXPECT_FALSE(tf32.ok());  // nothing was checked
}

TEST(ConformanceTests, ReportJsonAndJunitNameThePrecision) {
  const OneCaseVectors v;
  const CheckReport report = v.check(Precision::kBf16);
  write_report_json(report, v.dir / "report.json");
  write_junit(report, v.dir / "junit.xml");
  std::ifstream in(v.dir / "report.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j.at("schema_version"), 2);
  EXPECT_EQ(j.at("precision"), "bf16");
  EXPECT_EQ(j.at("summary").at("not_applicable"), 0);
  EXPECT_EQ(j.at("cases")[0].at("outputs")[0].at("plain_error").get<double>(), 4e-3);
  std::stringstream junit;
  junit << std::ifstream(v.dir / "junit.xml").rdbuf();
  EXPECT_NE(junit.str().find("<property name=\"precision\" value=\"bf16\"/>"), std::string::npos) << junit.str();
  EXPECT_NE(junit.str().find("testsuite name=\"conformance.quick.bf16\""), std::string::npos) << junit.str();
  // The reproduce command checks the same precision.
  EXPECT_NE(report.cases[0].reproduce.find("--precision bf16"), std::string::npos) << report.cases[0].reproduce;
}

}  // namespace
}  // namespace artabpfn::conformance
