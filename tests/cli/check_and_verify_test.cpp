// check and verify (issue 22, items 11 and 12): a missing results folder is a path error, an
// unknown contract lists the valid ones, a NaN result shows as NaN naming its element; verify's
// table shows the worst element's own error and tolerance, and the no-GPU reason once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "conformance/check.hpp"
#include "conformance/vectors.hpp"
#include "tests/cli/cli_run.hpp"
#include "tests/support/temp_dir.hpp"
#include "verify/verify.hpp"

namespace artabpfn::test_support {
namespace {

using ::testing::HasSubstr;

// One merge_states case of the quick set, written by the CLI.
struct OneCase {
  TempDir dir;
  std::filesystem::path vectors = dir / "vectors", results = dir / "results";
  std::string name;
  OneCase() {
    for (const std::string& c : conformance::planned_cases("quick"))
      if (name.empty() && c.starts_with("merge_states.")) name = c;
    const CommandResult r = run_cli("vectors --quick --out " + vectors.string() + " --case " + name);
    EXPECT_EQ(r.status, 0) << r.output;
    std::filesystem::create_directories(results);
  }
  std::string check(const std::string& more = "") const {
    return "check " + vectors.string() + " --results " + results.string() + " --case " + name + more;
  }
};

TEST(CliTests, CheckAMissingResultsFolderIsAPathErrorAndAnUnknownContractListsTheValidOnes) {
  const OneCase c;
  const CommandResult missing = run_cli("check " + c.vectors.string() + " --results " + (c.dir / "nope").string());
  EXPECT_EQ(missing.status, 2) << missing.output;
  EXPECT_THAT(missing.output, HasSubstr("--results"));
  EXPECT_THAT(missing.output, HasSubstr("nope"));
  EXPECT_THAT(missing.output, ::testing::Not(HasSubstr("missing,")));
  const CommandResult contract = run_cli(c.check(" --contracts merge_state"));
  EXPECT_EQ(contract.status, 2) << contract.output;
  EXPECT_THAT(contract.output, HasSubstr("unknown contract 'merge_state'; the contracts are: "));
  EXPECT_THAT(contract.output, HasSubstr("merge_states"));
  EXPECT_THAT(contract.output, HasSubstr("sample_sequence"));
}

TEST(CliTests, CheckANanResultShowsAsNanAndNamesTheElement) {
  const OneCase c;
  const conformance::Index index = conformance::read_index(c.vectors / "index.json");
  const conformance::CaseSpec& spec = *index.find(c.name);
  const conformance::CaseFile vectors = conformance::read_case_file(c.vectors / spec.file);
  conformance::ResultFile result;
  for (const auto& [output, expected] : vectors.expected) result[output] = expected;  // exact: passes
  const std::string output = spec.outputs.front().name;
  conformance::Tensor& bad = result.at(output);
  std::size_t at = 0;
  while (std::isnan(bad.values[at])) ++at;  // a compared element
  bad.values[at] = std::numeric_limits<double>::quiet_NaN();
  conformance::write_result_file(c.results / spec.file, result);
  const CommandResult r = run_cli(c.check());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, ::testing::ContainsRegex(c.name + " +fail +NaN "));
  EXPECT_THAT(r.output, HasSubstr("got NaN"));
  EXPECT_THAT(r.output, HasSubstr(output + ": 1 non-finite mismatches"));
}

// What verify::print_conformance prints for `section`.
std::string printed(const verify::ConformanceSection& section) {
  std::FILE* out = std::tmpfile();
  verify::print_conformance(section, out);
  std::rewind(out);
  std::string text(1 << 16, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), out));
  std::fclose(out);
  return text;
}

TEST(CliTests, VerifyTableTheWorstElementIsShownWithItsOwnErrorAndTolerance) {
  // Two cases of one contract: the largest error has a loose tolerance, the worst ratio a tight one.
  conformance::Index index;
  conformance::CheckReport report;
  for (const auto& [name, error, limit] : {std::tuple{"merge_states.a", 9.48e-5, 1e-3}, std::tuple{"merge_states.b", 1e-6, 1.53e-6}}) {
    conformance::CaseSpec spec;
    spec.name = name;
    spec.contract = "merge_states";
    index.cases.push_back(spec);
    conformance::CaseCheck check;
    check.name = name;
    check.contract = "merge_states";
    check.status = "pass";
    conformance::OutputCheck o;
    o.output = "out";
    o.max_error = error;
    o.limit = limit;
    o.worst_position = {2, 3};
    check.outputs.push_back(o);
    report.cases.push_back(check);
  }
  verify::ConformanceSection section;
  section.rows = verify::summarize(index, report);
  ASSERT_EQ(section.rows.size(), 1u);
  const verify::ContractRow& row = section.rows[0];
  EXPECT_EQ(row.max_error, 9.48e-5);
  EXPECT_EQ(row.worst_case, "merge_states.b");
  EXPECT_EQ(row.worst_error, 1e-6);
  EXPECT_EQ(row.tolerance, 1.53e-6);
  EXPECT_DOUBLE_EQ(row.worst_ratio, 1e-6 / 1.53e-6);
  const std::string text = printed(section);
  EXPECT_THAT(text, ::testing::ContainsRegex("merge_states +kernel +2 .* 1e-06 +1.53e-06 +0.654  pass"));
  EXPECT_THAT(text, HasSubstr("merge_states.b out[2,3]: error 1e-06, tolerance 1.53e-06"));
}

// A contract whose cases do not serve the precision judged (tf32 has no sampler limits) is reported
// as not applicable: not run, not failed, and not a reason for the section to fail.
TEST(CliTests, VerifyCasesNotApplicableToThePrecisionNeitherRunNorFail) {
  conformance::Index index;
  conformance::CheckReport report;
  for (const auto& [name, contract, status] :
       {std::tuple{"sampler.a", "sampler", conformance::kNotApplicable},
        std::tuple{"merge_states.a", "merge_states", "pass"}}) {
    conformance::CaseSpec spec;
    spec.name = name;
    spec.contract = contract;
    index.cases.push_back(spec);
    conformance::CaseCheck check;
    check.name = name;
    check.contract = contract;
    check.status = status;
    report.cases.push_back(check);
  }
  verify::ConformanceSection section;
  section.judged = tolerance::Precision::kTf32;
  section.rows = verify::summarize(index, report);
  ASSERT_EQ(section.rows.size(), 2u);
  const auto sampler = std::find_if(section.rows.begin(), section.rows.end(),
                                    [](const verify::ContractRow& r) { return r.contract == "sampler"; });
  ASSERT_NE(sampler, section.rows.end());
  EXPECT_EQ(sampler->not_applicable, 1);
  EXPECT_EQ(sampler->failed, 0);
  EXPECT_EQ(sampler->run(), 0);
  EXPECT_EQ(sampler->status(), conformance::kNotApplicable);
  EXPECT_EQ(section.failed(), 0);
  EXPECT_TRUE(section.ok());
  const std::string text = printed(section);
  EXPECT_THAT(text, ::testing::ContainsRegex("sampler +kernel +0 .* not applicable to tf32"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("FAIL")));
}

// A tests tree with the CPU property executables of this build and one GPU executable that
// cannot run here.
std::filesystem::path tests_tree_with_a_gpu_executable(const std::filesystem::path& root) {
  cpu_tests_tree(root);
  for (const char* gpu : {"gpu_a", "gpu_b"}) {
    const std::filesystem::path exe = root / "properties" / gpu / (std::string(gpu) + "_properties");
    std::filesystem::create_directories(exe.parent_path());
    std::ofstream(exe) << "#!/bin/sh\nexit 1\n";
    std::filesystem::permissions(exe, std::filesystem::perms::owner_all);
  }
  return root;
}

TEST(CliTests, VerifyTheNoGpuReasonIsPrintedOnce) {
  const TempDir dir;
  const std::filesystem::path tests = tests_tree_with_a_gpu_executable(dir / "tests");
  const CommandResult r = run_cli("verify --quick --max-success 2 --tests-dir " + tests.string(),
                                  "ARTABPFN_EXPECT_GPU=0 CUDA_VISIBLE_DEVICES=");
  EXPECT_EQ(r.status, 0) << r.output;
  const std::string lead = "verify: no usable CUDA GPU (";
  const std::size_t at = r.output.find(lead);
  ASSERT_NE(at, std::string::npos) << r.output;
  const std::string reason = r.output.substr(at + lead.size(), r.output.find(')', at) - at - lead.size());
  std::size_t count = 0;
  for (std::size_t p = r.output.find(reason); p != std::string::npos; p = r.output.find(reason, p + 1)) ++count;
  EXPECT_EQ(count, 1u) << reason << "\n" << r.output;
  EXPECT_THAT(r.output, HasSubstr("gpu_a_properties"));
  EXPECT_THAT(r.output, HasSubstr("not run: no usable CUDA GPU"));
}

}  // namespace
}  // namespace artabpfn::test_support
