// The cpu backend (docs/precisions.md, "The engine's precisions on the CPU"): on the bundled paper
// fixture, float32 is the reference instantiated with float bit for bit; tf32x3 stays within twice
// float32's distance to the PyTorch float64 densities without being float32; tf32 lands more than
// twice as far as either and below half a nat. Samples: the same seed gives the same samples, and
// a task's samples do not depend on the tasks beside it. A cpu run replays bit for bit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "artabpfn/safetensors.hpp"
#include "artabpfn/task_tensors.hpp"
#include "artabpfn/weights_loader.hpp"
#include "reference/reference.hpp"
#include "reference/task_batch.hpp"
#include "tests/cli/cli_inputs.hpp"
#include "tests/cli/cli_run.hpp"
#include "tests/support/temp_dir.hpp"

namespace artabpfn::test_support {
namespace {

using ::testing::HasSubstr;

const std::string kPaperFiles =
    " --weights " + peer("paper_weights.safetensors") + " --inputs " + peer("paper_io.safetensors");

// The values of tensor `name` in a safetensors output written by the CLI.
std::vector<double> output_values(const std::filesystem::path& path, const std::string& name) {
  return safetensors::File::read(path).to_f64(name).data;
}

// Runs `arguments` with --out in `dir` and returns the output's tensor `name`.
std::vector<double> run_to_values(const TempDir& dir, const std::string& arguments, const std::string& name) {
  const std::filesystem::path out = dir / "out.safetensors";
  std::filesystem::remove(out);
  const CommandResult r = run_cli(arguments + " --out " + out.string());
  EXPECT_EQ(r.status, 0) << arguments << "\n" << r.output;
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("no usable CUDA GPU")));  // the cpu backend never falls back
  return r.status == 0 ? output_values(out, name) : std::vector<double>{};
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

// Bit for bit (NaN equals a NaN of the same bits; -0 differs from +0).
bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

TEST(CliTests, CpuBackendPrecisionsOnThePaperFixtureKeepTheirDistancesToFloat64) {
  const TempDir dir;
  const std::vector<double> expected = safetensors::File::read(peer("paper_io.safetensors")).to_f64("tf_logpdf").data;
  std::map<std::string, std::vector<double>> got;
  for (const std::string precision : {"float32", "tf32", "tf32x3"})
    got[precision] = run_to_values(dir, "density --backend cpu --precision " + precision + kPaperFiles, "logpdf");
  ASSERT_EQ(got["float32"].size(), expected.size());  // [4, 1, 45] and [4, 45]: one value set per task

  // float32 is the plain float32 implementation: the reference instantiated with float.
  const TaskTensors tasks = load_task_tensors(peer("paper_io.safetensors"));
  const auto params = reference::ModelParams<float>::from_weights(load_weights(peer("paper_weights.safetensors")));
  const auto reference_float = reference::evaluate_joint_density<float>(params, reference::split_tasks(tasks),
                                                                         reference::split_target_values(tasks));
  std::vector<double> plain;
  for (const auto& task : reference_float)
    for (Eigen::Index j = 0; j < task.cols(); ++j) plain.push_back(double(task(0, j)));
  EXPECT_TRUE(same_bits(got["float32"], plain)) << "cpu float32 is not the reference in float";

  const double float32 = max_abs_diff(got["float32"], expected), tf32 = max_abs_diff(got["tf32"], expected),
               tf32x3 = max_abs_diff(got["tf32x3"], expected);
  std::printf("paper fixture, max |logpdf - PyTorch float64| (nats): float32 %.3g, tf32 %.3g, tf32x3 %.3g\n", float32,
              tf32, tf32x3);
  EXPECT_GT(float32, 0.0);
  EXPECT_LE(tf32x3, 2 * float32);
  EXPECT_FALSE(same_bits(got["tf32x3"], got["float32"])) << "tf32x3 computed float32's values";
  EXPECT_GT(tf32, 2 * float32);
  EXPECT_GT(tf32, 2 * tf32x3);
  EXPECT_LT(tf32, 0.5);
}

TEST(CliTests, CpuBackendSamplesRepeatWithTheSeedAndDoNotDependOnTheOtherTasks) {
  const TempDir dir;
  const std::string weights = tiny_weights(dir / "w.safetensors");
  const std::string batch = " --weights " + weights + " --inputs " + peer("paper_io.safetensors");
  const std::string alone = " --weights " + weights + " --inputs " + write_task(dir / "t0.safetensors", paper_task0());
  for (const std::string precision : {"float32", "tf32", "tf32x3"}) {
    const std::string job = "sample --backend cpu --samples 5 --seed 11 --precision " + precision;
    const std::vector<double> first = run_to_values(dir, job + batch, "samples");
    const std::vector<double> again = run_to_values(dir, job + batch, "samples");
    const std::vector<double> task0 = run_to_values(dir, job + alone, "samples");
    ASSERT_EQ(first.size(), 4u * 5u * 45u) << precision;
    EXPECT_TRUE(same_bits(first, again)) << precision << ": the same seed gave other samples";
    EXPECT_TRUE(same_bits(task0, std::vector<double>(first.begin(), first.begin() + 5 * 45)))
        << precision << ": task 0's samples depend on the tasks beside it";
    const std::vector<double> other_seed =
        run_to_values(dir, "sample --backend cpu --samples 5 --seed 12 --precision " + precision + batch, "samples");
    EXPECT_FALSE(same_bits(first, other_seed)) << precision;
  }
  // The precisions differ: their arithmetic reaches the samples.
  const std::string job = "sample --backend cpu --samples 5 --seed 11 --precision ";
  EXPECT_FALSE(same_bits(run_to_values(dir, job + "float32" + batch, "samples"),
                         run_to_values(dir, job + "tf32" + batch, "samples")));
}

}  // namespace
}  // namespace artabpfn::test_support
