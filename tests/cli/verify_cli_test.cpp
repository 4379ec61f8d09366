// `artabpfn verify` on the CPU path (the float32 CPU implementation, the CPU property
// executables): the tables, the JSON and JUnit reports with their schema, and a failing exit
// status when a fault is planted in the implementation under test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_run.hpp"
#include "tests/support/temp_dir.hpp"

namespace artabpfn::test_support {
namespace {

using nlohmann::json;

constexpr const char* kCpuVerify = "verify --quick --implementation float32-cpu --max-success 3";

TEST(CliTests, VerifyQuickCpuRunPrintsTablesAndWritesReportsWithSchema) {
  const TempDir dir;
  const std::filesystem::path tests = cpu_tests_tree(dir.path() / "tests"), reports = dir.path() / "reports";
  const CommandResult r =
      run_cli(std::string(kCpuVerify) + " --seed 7 --tests-dir " + tests.string() + " --report-dir " + reports.string());
  ASSERT_EQ(r.status, 0) << r.output;
  // The tables.
  EXPECT_NE(r.output.find("conformance: float32-cpu implementation, quick vectors (seed 7)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("p99 err"), std::string::npos);
  EXPECT_NE(r.output.find("properties: RC_PARAMS seed=7 max_success=3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("reference_properties"), std::string::npos);
  EXPECT_NE(r.output.find("verify: PASS"), std::string::npos) << r.output;

  const json j = json::parse(read_text(reports / "verify.json"));
  EXPECT_EQ(j.at("schema"), "artabpfn-verify-report");
  EXPECT_EQ(j.at("schema_version"), 1);
  EXPECT_EQ(j.at("ok"), true);
  EXPECT_EQ(j.at("mode"), "quick");
  EXPECT_EQ(j.at("seed"), 7);
  // Every contract of the quick set ran on the CPU implementation and passed.
  const json& c = j.at("conformance");
  EXPECT_EQ(c.at("implementation"), "float32-cpu");
  EXPECT_EQ(c.at("engine_precision"), "float32");
  EXPECT_EQ(c.at("judged_as"), "float32");
  EXPECT_EQ(c.at("set"), "quick");
  ASSERT_EQ(c.at("contracts").size(), 12u);
  int cases = 0;
  for (const json& row : c.at("contracts")) {
    EXPECT_EQ(row.at("status"), "pass") << row.dump();
    EXPECT_GT(row.at("cases").get<int>(), 0) << row.dump();
    EXPECT_GT(row.at("shapes").get<int>(), 0) << row.dump();
    EXPECT_LE(row.at("p99_error").get<double>(), row.at("max_error").get<double>()) << row.dump();
    EXPECT_GT(row.at("tolerance").get<double>(), 0.0) << row.dump();
    EXPECT_LE(row.at("worst_ratio").get<double>(), 1.0) << row.dump();
    EXPECT_TRUE(row.at("kind") == "kernel" || row.at("kind") == "engine job") << row.dump();
    cases += row.at("cases").get<int>();
  }
  EXPECT_EQ(cases, c.at("cases").get<int>());
  EXPECT_GT(cases, 100);  // the quick set has well over a hundred cases
  // Properties: the RapidCheck properties ran 3 cases each with the given seed.
  const json& p = j.at("properties");
  EXPECT_EQ(p.at("seed"), 7);
  EXPECT_EQ(p.at("max_success"), 3);
  ASSERT_EQ(p.at("executables").size(), 2u);
  int properties = 0;
  for (const json& e : p.at("executables")) {
    EXPECT_EQ(e.at("status"), "passed") << e.dump();
    for (const json& t : e.at("tests")) {
      EXPECT_EQ(t.at("status"), "passed") << t.dump();
      if (t.at("property") == true) {
        EXPECT_EQ(t.at("cases"), 3) << t.dump();
        ++properties;
      }
    }
  }
  EXPECT_GE(properties, 5);
  // Environment: fixtures verified against their manifests, build described.
  const json& e = j.at("environment");
  EXPECT_EQ(e.at("ok"), true);
  EXPECT_GE(e.at("fixtures").size(), 5u);
  for (const json& f : e.at("fixtures")) EXPECT_EQ(f.at("actual"), f.at("expected")) << f.dump();
  EXPECT_FALSE(e.at("compiler").get<std::string>().empty());
  EXPECT_FALSE(e.at("git_commit").get<std::string>().empty());

  const std::string junit = read_text(reports / "verify.junit.xml");
  EXPECT_NE(junit.find("<property name=\"schema_version\" value=\"1\"/>"), std::string::npos) << junit;
  EXPECT_NE(junit.find("name=\"shared_context_attention\""), std::string::npos);
  EXPECT_NE(junit.find("testsuite name=\"verify.properties\""), std::string::npos);
  EXPECT_EQ(junit.find("<failure"), std::string::npos) << junit;
}

TEST(CliTests, VerifyPlantedFaultFailsTheReportAndNamesTheContract) {
  const TempDir dir;
  const std::filesystem::path tests = cpu_tests_tree(dir.path() / "tests"), reports = dir.path() / "reports";
  const CommandResult r = run_cli(std::string(kCpuVerify) + " --tests-dir " + tests.string() + " --report-dir " +
                                      reports.string(),
                                  "ARTABPFN_MUTANT=no_score_scale");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("mutant no_score_scale planted"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("verify: FAIL"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("conformance FAIL, properties pass"), std::string::npos) << r.output;
  const json j = json::parse(read_text(reports / "verify.json"));
  EXPECT_EQ(j.at("ok"), false);
  EXPECT_EQ(j.at("conformance").at("mutant"), "no_score_scale");
  bool attention_failed = false;
  for (const json& row : j.at("conformance").at("contracts"))
    if (row.at("contract") == "shared_context_attention") {
      attention_failed = row.at("status") == "fail" && !row.at("failing").empty() && row.at("worst_ratio").get<double>() > 1.0;
    }
  EXPECT_TRUE(attention_failed) << j.at("conformance").dump();
  const std::string junit = read_text(reports / "verify.junit.xml");
  EXPECT_NE(junit.find("<failure"), std::string::npos);
}

TEST(CliTests, VerifyMissingPropertyExecutablesAndBadOptionsFail) {
  const TempDir dir;
  const CommandResult none = run_cli(std::string(kCpuVerify) + " --tests-dir " + (dir.path() / "empty").string());
  EXPECT_EQ(none.status, 1) << none.output;
  EXPECT_NE(none.output.find("no property or edge-case executables"), std::string::npos) << none.output;
  const CommandResult bad = run_cli("verify --quick --implementation tpu");
  EXPECT_EQ(bad.status, 2) << bad.output;
  EXPECT_NE(bad.output.find("--implementation must be auto, cuda or float32-cpu"), std::string::npos) << bad.output;
  // An engine precision other than float32 needs the CUDA engine; an unknown one is refused.
  const CommandResult tf32 = run_cli("verify --quick --implementation float32-cpu --precision tf32x3");
  EXPECT_EQ(tf32.status, 2) << tf32.output;
  EXPECT_NE(tf32.output.find("verify --precision tf32x3 runs the CUDA engine in that precision; the float32 CPU "
                             "implementation"),
            std::string::npos)
      << tf32.output;
  EXPECT_EQ(run_cli("verify --quick --precision bf16").status, 2);
  const CommandResult mutant = run_cli("verify --quick --implementation float32-cpu", "ARTABPFN_MUTANT=no_such_fault");
  EXPECT_NE(mutant.status, 0) << mutant.output;
  EXPECT_NE(mutant.output.find("no_such_fault"), std::string::npos) << mutant.output;
}

#if !ARTABPFN_CLI_HAS_ENGINE
// Without a CUDA engine, auto falls back with one line; a GPU runner's ARTABPFN_EXPECT_GPU=1 fails.
TEST(CliTests, VerifyWithoutAGpuSaysSoOrFailsWhenOneIsExpected) {
  const TempDir dir;
  const std::filesystem::path tests = cpu_tests_tree(dir.path() / "tests");
  const CommandResult fallback = run_cli("verify --quick --max-success 2 --tests-dir " + tests.string());
  EXPECT_EQ(fallback.status, 0) << fallback.output;
  EXPECT_NE(fallback.output.find("verify: no usable CUDA GPU (this build has no CUDA engine); checking the float32 CPU "
                                 "implementation"),
            std::string::npos)
      << fallback.output;
  const CommandResult expected = run_cli("verify --quick --tests-dir " + tests.string(), "ARTABPFN_EXPECT_GPU=1");
  EXPECT_EQ(expected.status, 1) << expected.output;
  EXPECT_NE(expected.output.find("FAIL: no usable CUDA GPU"), std::string::npos) << expected.output;
}
#endif

}  // namespace
}  // namespace artabpfn::test_support
