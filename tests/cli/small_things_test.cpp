// Small things (issue 22, item 14): the no-GPU notice says "no NVIDIA driver found" where there
// is none and comes once, after argument errors; demo takes the fixtures folder or its peer/
// folder; the multiprecision backend warns in the help and shows progress inside a task; the
// Python runner reports a missing vectors folder or a bad adapter on one line with exit status 2.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "jobs/progress.hpp"
#include "conformance/vectors.hpp"
#include "tests/cli/cli_inputs.hpp"
#include "tests/cli/cli_run.hpp"
#include "tests/support/temp_dir.hpp"

namespace artabpfn::test_support {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

const std::string kNoGpu = "CUDA_VISIBLE_DEVICES=";  // no visible device, also on a GPU machine

TEST(CliTests, NoticeTheNoGpuNoticeComesOnceAndOnlyAfterArgumentErrors) {
  const TempDir dir;
  const std::string job = "density --weights " + peer("paper_weights.safetensors") + " --inputs ";
  const CommandResult ok = run_cli(job + peer("paper_io.safetensors"), kNoGpu);
  ASSERT_EQ(ok.status, 0) << ok.output;
  EXPECT_EQ(count(ok.output, "no usable CUDA GPU"), 1u) << ok.output;
  // Bad arguments and bad inputs are reported alone.
  TaskTensors nan = paper_task0();
  nan.y_context.data[0] = std::numeric_limits<double>::quiet_NaN();
  for (const std::string& bad : {job + write_task(dir / "nan.safetensors", nan), job + "missing.safetensors",
                                 "sample --samples 1 --seed -1 --weights " + peer("paper_weights.safetensors")}) {
    const CommandResult r = run_cli(bad, kNoGpu);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_THAT(r.output, Not(HasSubstr("no usable CUDA GPU"))) << bad;
  }
}

#if ARTABPFN_CLI_HAS_ENGINE
TEST(CliTests, NoticeAMachineWithoutADriverIsSaidToHaveNone) {
  if (std::filesystem::exists("/proc/driver/nvidia/version")) GTEST_SKIP() << "this machine has an NVIDIA driver";
  const CommandResult r = run_cli("density --weights " + peer("paper_weights.safetensors") + " --inputs " +
                                  peer("paper_io.safetensors"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("no usable CUDA GPU (no NVIDIA driver found)"));
  EXPECT_THAT(r.output, Not(HasSubstr("insufficient")));
}
#endif

TEST(CliTests, DemoFixturesFixturesMayNameTheFixturesFolderOrItsPeerFolder) {
  for (const std::string& folder : {fixtures_dir().string(), (fixtures_dir() / "peer").string()}) {
    const CommandResult r = run_cli("demo --fixtures " + folder, kNoGpu);
    EXPECT_EQ(r.status, 0) << folder << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("4 joint samples of task 0"));
  }
  const CommandResult missing = run_cli("demo --fixtures /nonexistent-fixtures");
  EXPECT_EQ(missing.status, 2) << missing.output;
  EXPECT_THAT(missing.output, HasSubstr("no paper fixture (paper_weights.safetensors) in '/nonexistent-fixtures/peer'"));
}

TEST(CliTests, HelpTheMultiprecisionBackendWarnsAboutTime) {
  for (const char* job : {"density", "sample"}) {
    const CommandResult r = run_cli(std::string(job) + " --help");
    EXPECT_THAT(r.output, HasSubstr("reference-mp: the CPU reference in 50-digit multiprecision, about"));
    EXPECT_THAT(r.output, HasSubstr("75 s per task of the bundled paper fixture"));
  }
}

TEST(CliTests, ProgressALongUnitShowsThatItIsRunning) {
  std::FILE* terminal = std::tmpfile();
  {
    jobs::UnitProgress progress("density", "tasks", 2, terminal, std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(60));  // inside task 1
    progress.finished(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));  // inside task 2
    progress.finished(2);
  }
  std::rewind(terminal);
  std::string text(1 << 16, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), terminal));
  std::fclose(terminal);
  EXPECT_THAT(text, HasSubstr("density: 0/2 tasks (0%)"));
  EXPECT_THAT(text, HasSubstr("; task 1 running for "));
  EXPECT_THAT(text, HasSubstr("density: 1/2 tasks (50%)"));
  EXPECT_THAT(text, HasSubstr("; task 2 running for "));
  EXPECT_THAT(text, HasSubstr("density: 2/2 tasks (100%)"));
  EXPECT_EQ(text.back(), '\n');
}

TEST(CliTests, PythonRunnerAMissingVectorsFolderOrABadAdapterIsOneLineAndExitTwo) {
  const std::string python = "PYTHONPATH=" ARTABPFN_SOURCE_DIR "/python PYTHONDONTWRITEBYTECODE=1 python3";
  if (run_shell(python + " -c 'import numpy, safetensors' 2>&1").status != 0)
    GTEST_SKIP() << "python3 cannot import numpy and safetensors";
  const TempDir dir;
  const std::string vectors = (dir / "vectors").string(), results = (dir / "results").string();
  const std::string one_case = conformance::planned_cases("quick").front();
  ASSERT_EQ(run_cli("vectors --quick --out " + vectors + " --case " + one_case).status, 0);
  const std::string runner = python + " -m artabpfn_conformance.run ";
  const std::string good_adapter = " --adapter artabpfn_conformance.numpy_adapter:adapter";
  const struct {
    std::string arguments, message;
  } cases[] = {
      {(dir / "nope").string() + " " + results + good_adapter, "vectors folder"},
      {vectors + " " + results + " --adapter no_colon", "--adapter must be module:function"},
      {vectors + " " + results + " --adapter no_such_module:adapter", "cannot import module 'no_such_module'"},
      {vectors + " " + results + " --adapter artabpfn_conformance.numpy_adapter:no_such", "has no 'no_such'"},
  };
  for (const auto& c : cases) {
    const CommandResult r = run_shell(runner + c.arguments + " 2>&1");
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_EQ(count(r.output, "\n"), 1u) << r.output;
    EXPECT_THAT(r.output, HasSubstr("error: " ));
    EXPECT_THAT(r.output, HasSubstr(c.message));
    EXPECT_THAT(r.output, Not(HasSubstr("Traceback")));
  }
}

}  // namespace
}  // namespace artabpfn::test_support
