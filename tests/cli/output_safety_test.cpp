// Outputs (issue 22, items 3 and 8): nothing an input holds is overwritten, an output is written
// whole or not at all, every write error is reported, and what cannot be written or held fails
// with exit status 2 before any long work.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "artabpfn/sha256.hpp"
#include "tests/cli/cli_inputs.hpp"
#include "tests/cli/cli_run.hpp"
#include "tests/support/temp_dir.hpp"

namespace artabpfn::test_support {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Files in `dir` (temporary files left behind would show here).
std::vector<std::string> files_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

struct TinyJob {
  TempDir dir;
  std::string weights = tiny_weights(dir / "w.safetensors");
  std::string inputs = write_task(dir / "in.safetensors", paper_task0());
  std::string density(const std::string& more) const {
    return "density --backend reference --weights " + weights + " --inputs " + inputs + " " + more;
  }
};

TEST(CliTests, OutputsAnOutputThatIsAnInputIsRefused) {
  const TinyJob job;
  const std::string before = sha256_file_hex(job.inputs);
  for (const std::string& out : {job.inputs, (job.dir / "." / "in.safetensors").string(), job.weights}) {
    const CommandResult r = run_cli(job.density("--out " + out));
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr("refusing to overwrite an input")) << out;
  }
  EXPECT_EQ(sha256_file_hex(job.inputs), before);
}

TEST(CliTests, OutputsUnknownExtensionsAreRefusedAndNothingIsWritten) {
  const TinyJob job;
  const auto before = files_in(job.dir.path());
  for (const std::string name : {"out.txt", "out", "out.CSV.bak"}) {
    const CommandResult r = run_cli(job.density("--out " + (job.dir / name).string()));
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr("the name must end in .csv or .safetensors")) << name;
  }
  EXPECT_EQ(files_in(job.dir.path()), before);
}

TEST(CliTests, OutputsWriteErrorsAreReported) {
  const TinyJob job;
  const CommandResult full = run_cli_with_stdout(job.density(""), "/dev/full");
  EXPECT_EQ(full.status, 2) << full.output;
  EXPECT_THAT(full.output, HasSubstr("cannot write 'standard output'"));
  const CommandResult folder = run_cli(job.density("--out " + (job.dir / "missing" / "d.csv").string()));
  EXPECT_EQ(folder.status, 2) << folder.output;
  EXPECT_THAT(folder.output, HasSubstr("cannot create a file in"));
}

TEST(CliTests, OutputsAFailedRunLeavesTheOldOutputAndNoTemporaryFile) {
  const TinyJob job;
  const std::string out = write_text(job.dir / "d.csv", "the previous output\n");
  const auto before = files_in(job.dir.path());
  // An input error found after the output was opened (a NaN in the inputs).
  TaskTensors bad = paper_task0();
  bad.x_target.data[3] = std::numeric_limits<double>::quiet_NaN();
  const std::string nan_inputs = write_task(job.dir / "nan.safetensors", bad);
  const CommandResult r = run_cli("density --backend reference --weights " + job.weights + " --inputs " + nan_inputs +
                                  " --out " + out);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_EQ(read_text(out), "the previous output\n");
  auto after = files_in(job.dir.path());
  after.erase(std::remove(after.begin(), after.end(), "nan.safetensors"), after.end());
  EXPECT_EQ(after, before);
  // A successful run replaces it whole, with its manifest.
  ASSERT_EQ(run_cli(job.density("--out " + out)).status, 0);
  EXPECT_THAT(read_text(out), HasSubstr("task,set,logp_0"));
  EXPECT_TRUE(std::filesystem::exists(out + ".manifest.json"));
}

TEST(CliTests, OutputsReportFoldersThatCannotBeWrittenFailAtOnce) {
  const TempDir dir;
  const std::string file = write_text(dir / "a-file", "x");
  const CommandResult vectors = run_cli("vectors --quick --out " + file);
  EXPECT_EQ(vectors.status, 2) << vectors.output;
  EXPECT_THAT(vectors.output, HasSubstr("--out '" + file + "' is a file, not a folder"));
  const CommandResult verify = run_cli("verify --quick --implementation float32-cpu --report-dir " + file);
  EXPECT_EQ(verify.status, 2) << verify.output;
  EXPECT_THAT(verify.output, HasSubstr("--report-dir '" + file + "' is a file, not a folder"));
  EXPECT_THAT(verify.output, Not(HasSubstr("conformance:")));  // before the run
  const CommandResult check = run_cli("check " + dir.path().string() + " --results " + dir.path().string() +
                                      " --report-dir " + file);
  EXPECT_EQ(check.status, 2) << check.output;
  EXPECT_THAT(check.output, HasSubstr("is a file, not a folder"));
}

TEST(CliTests, OutputsResultsThatCannotFitInMemoryAreRefusedWithWhatTheyNeed) {
  const CommandResult r = run_cli("sample --backend reference --samples 4294967295 --seed 1 --weights " +
                                  peer("paper_weights.safetensors") + " --inputs " + peer("paper_io.safetensors"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("the results (4 task(s) x 4294967295 samples x 45 targets) need about"));
  EXPECT_THAT(r.output, HasSubstr("TB of memory"));
  EXPECT_THAT(r.output, Not(HasSubstr("internal error")));
}

}  // namespace
}  // namespace artabpfn::test_support
