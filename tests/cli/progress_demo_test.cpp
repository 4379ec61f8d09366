// Progress lines (only on a terminal) and `artabpfn demo` on the CPU fallback.
#include <gtest/gtest.h>
#include <unistd.h>

#include "jobs/progress.hpp"
#include "tests/cli/cli_run.hpp"
#include "tests/support/fixtures_dir.hpp"

namespace artabpfn::test_support {
namespace {

TEST(CliTests, ProgressFormatsCountPercentAndEstimate) {
  EXPECT_EQ(jobs::format_progress("sample", "tasks", 0, 8, 0.0), "sample: 0/8 tasks (0%), 0.0 s");
  EXPECT_EQ(jobs::format_progress("sample", "tasks", 2, 8, 3.0), "sample: 2/8 tasks (25%), 3.0 s, about 9 s left");
  EXPECT_EQ(jobs::format_progress("density", "tasks", 4, 4, 1.25), "density: 4/4 tasks (100%), 1.2 s");
}

TEST(CliTests, ProgressNothingWhenStderrIsNotATerminal) {
  // ctest and popen give the process a pipe: no sink, and the jobs print no progress line.
  EXPECT_FALSE(jobs::terminal_progress("density", "tasks") && !isatty(STDERR_FILENO));
  const std::string peer = (fixtures_dir() / "peer").string();
  const CommandResult r = run_cli("density --backend reference --weights " + peer + "/paper_weights.safetensors --inputs " +
                                  peer + "/paper_io.safetensors");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("tasks ("), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find('\r'), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("density: 4 task(s), backend reference"), std::string::npos) << r.output;
}

TEST(CliTests, DemoFallsBackToTheReferenceWithOneNoticeWithoutAGpu) {
  // No visible CUDA device (also on a GPU machine): the double reference runs, with the notice.
  const CommandResult r = run_cli("demo", "CUDA_VISIBLE_DEVICES=");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("no usable CUDA GPU"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("running the CPU reference (double) instead"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("backend: reference (float64)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("demo: reference (float64)"), std::string::npos) << r.output;
  // Task 0's joint log density as the reference computes it (the peer's value to 1e-12).
  EXPECT_NE(r.output.find("-157.8536670242"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("4 joint samples of task 0 (seed 1)"), std::string::npos) << r.output;
  std::size_t notices = 0;
  for (std::size_t at = r.output.find("no usable CUDA GPU"); at != std::string::npos;
       at = r.output.find("no usable CUDA GPU", at + 1))
    ++notices;
  EXPECT_EQ(notices, 1u) << r.output;
}

}  // namespace
}  // namespace artabpfn::test_support
