// The verification report's parts that need no program run: parsing GoogleTest output with
// RapidCheck's progress marks, percentiles, fixture checksums and contract kinds.
#include <gtest/gtest.h>

#include <fstream>

#include "artabpfn/sha256.hpp"
#include "conformance/check.hpp"
#include "support/temp_dir.hpp"
#include "verify/verify.hpp"

namespace artabpfn::verify {
namespace {

TEST(CliTests, VerifyParsesPropertiesPlainTestsSkipsAndFailures) {
  const std::string text =
      "[==========] Running 4 tests from 2 test suites.\n"
      "[ RUN      ] Props.Merge\n"
      "Using configuration: max_success=5 seed=5 verbose_progress=1\n"
      "...\n"
      "..x.\n"
      "[       OK ] Props.Merge (0 ms)\n"
      "[ RUN      ] Plain.Edge\n"
      "[       OK ] Plain.Edge (1 ms)\n"
      "[ RUN      ] Gpu.Kernel\n"
      "file.cpp:12: Skipped\n"
      "no CUDA GPU: no device found\n"
      "[  SKIPPED ] Gpu.Kernel (0 ms)\n"
      "[ RUN      ] Props.Broken\n"
      "..!\n"
      "file.cpp:40: Failure\n"
      "Falsifiable after 3 tests\n"
      "[  FAILED  ] Props.Broken (2 ms)\n"
      "[ RUN      ] Props.Crashes\n"
      "..\n";
  const std::vector<PropertyTest> tests = parse_test_output(text);
  ASSERT_EQ(tests.size(), 5u);
  EXPECT_EQ(tests[0].name, "Props.Merge");
  EXPECT_EQ(tests[0].status, "passed");
  EXPECT_TRUE(tests[0].property);
  EXPECT_EQ(tests[0].cases, 6);  // '.' marks; 'x' is a discarded case
  EXPECT_EQ(tests[1].status, "passed");
  EXPECT_FALSE(tests[1].property);
  EXPECT_EQ(tests[1].cases, 1);
  EXPECT_EQ(tests[2].status, "skipped");
  EXPECT_NE(tests[2].message.find("no CUDA GPU"), std::string::npos) << tests[2].message;
  EXPECT_EQ(tests[3].status, "failed");
  EXPECT_EQ(tests[3].cases, 2);
  EXPECT_NE(tests[3].message.find("Falsifiable"), std::string::npos) << tests[3].message;
  EXPECT_EQ(tests[4].status, "failed");  // no result line: the process died
}

TEST(CliTests, VerifyFixtureChecksumsCatchAChangedFile) {
  const test_support::TempDir dir;
  std::ofstream(dir.path() / "a.bin") << "alpha";
  std::ofstream(dir.path() / "b.bin") << "beta";
  const std::string a = sha256_file_hex(dir.path() / "a.bin");
  std::ofstream(dir.path() / "SHA256SUMS") << a << "  a.bin\n" << std::string(64, '0') << "  b.bin\n";
  const std::vector<FixtureChecksum> sums = check_fixtures(dir.path());
  ASSERT_EQ(sums.size(), 2u);
  EXPECT_EQ(sums[0].file, "a.bin");
  EXPECT_TRUE(sums[0].ok());
  EXPECT_EQ(sums[1].file, "b.bin");
  EXPECT_FALSE(sums[1].ok());
  Environment e;
  e.fixtures = sums;
  EXPECT_FALSE(e.ok());
  e.fixtures.pop_back();
  EXPECT_TRUE(e.ok());
  EXPECT_TRUE(check_fixtures(dir.path() / "absent").empty());
}

TEST(CliTests, VerifyContractKinds) {
  EXPECT_EQ(contract_kind("shared_context_attention"), "kernel");
  EXPECT_EQ(contract_kind("merge_states"), "kernel");
  EXPECT_EQ(contract_kind("sample_sequence"), "engine job");
  EXPECT_EQ(contract_kind("teacher_forcing_density"), "engine job");
}

}  // namespace
}  // namespace artabpfn::verify
