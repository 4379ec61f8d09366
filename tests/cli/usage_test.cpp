// The command line as a new user meets it (issue 22, items 3, 5, 6 and 7): every usage error
// exits 2 with the parser's message and a hint, unknown names are named with the nearest valid
// one, seeds are integers in [0, 2^64) or refused, and one table says which job, backend,
// attention and precision go together, the same on every machine.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/cli/cli_inputs.hpp"
#include "tests/cli/cli_run.hpp"
#include "tests/support/temp_dir.hpp"

namespace artabpfn::test_support {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kPaper =
    " --weights " + peer("paper_weights.safetensors") + " --inputs " + peer("paper_io.safetensors");

TEST(CliTests, UsageParserErrorsExitTwoWithTheParsersMessageAndAHint) {
  const struct {
    std::string arguments, message;
  } cases[] = {
      {"sample --samples 1 --seed 1e3" + kPaper, "--seed: '1e3' is not a seed"},
      {"density --weights missing.safetensors --inputs " + peer("paper_io.safetensors"), "--weights"},
      {"density --backend gpu" + kPaper, "--backend"},
      {"sample --seed 1" + kPaper, "--samples is required"},
      {"sample --samples 1 --seed 1 --seed 2" + kPaper, "--seed"},
      {"density" + kPaper + " extra", "extra"},
      {"sample --samples 0 --seed 1" + kPaper, "'0' is not an integer in [1, 4294967295]"},
  };
  for (const auto& c : cases) {
    const CommandResult r = run_cli(c.arguments);
    EXPECT_EQ(r.status, 2) << c.arguments << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("artabpfn: error: ")) << c.arguments;
    EXPECT_THAT(r.output, HasSubstr(c.message)) << c.arguments;
    EXPECT_THAT(r.output, HasSubstr("--help' for the options")) << c.arguments;
  }
}

TEST(CliTests, UsageUnknownCommandsAndOptionsAreNamedWithTheNearestValidOne) {
  const CommandResult command = run_cli("dmeo");
  EXPECT_EQ(command.status, 2) << command.output;
  EXPECT_THAT(command.output, HasSubstr("unknown command 'dmeo' (did you mean 'demo'?)"));
  EXPECT_THAT(command.output, HasSubstr("density, sample"));
  // The typo is reported, not the required option it hides.
  const CommandResult option = run_cli("density --wieghts x --inputs y");
  EXPECT_EQ(option.status, 2) << option.output;
  EXPECT_THAT(option.output, HasSubstr("unknown option '--wieghts' for 'density' (did you mean '--weights'?)"));
  EXPECT_THAT(option.output, Not(HasSubstr("is required")));
  const CommandResult far = run_cli("sample --colour blue");
  EXPECT_THAT(far.output, HasSubstr("unknown option '--colour' for 'sample'"));
  EXPECT_THAT(far.output, Not(HasSubstr("did you mean")));
}

TEST(CliTests, UsageBareCommandListsTheCommandsAndVersionNamesCommitAndCuda) {
  const CommandResult bare = run_cli("");
  EXPECT_EQ(bare.status, 2) << bare.output;
  for (const char* command : {"demo", "density", "sample", "vectors", "check", "replay", "verify"})
    EXPECT_THAT(bare.output, HasSubstr(command));
  const CommandResult version = run_cli("--version");
  EXPECT_EQ(version.status, 0) << version.output;
  EXPECT_THAT(version.output, HasSubstr("artabpfn 0.1.0 (commit "));
  EXPECT_THAT(version.output, ::testing::AnyOf(HasSubstr("CUDA runtime "), HasSubstr("built without CUDA")));
}

TEST(CliTests, UsageHelpShowsDefaultsAndReadableRanges) {
  const CommandResult help = run_cli("sample --help");
  EXPECT_EQ(help.status, 0) << help.output;
  EXPECT_THAT(help.output, HasSubstr("integer in [1, 4294967295]"));
  EXPECT_THAT(help.output, HasSubstr("integer in [0, 2^64)"));
  EXPECT_THAT(help.output, HasSubstr("{cuda,cpu,reference,reference-mp}=cuda"));  // --backend's default
  EXPECT_THAT(help.output, Not(HasSubstr("1797693134862315")));  // no 300-digit bound
}

TEST(CliTests, SeedsAnythingButAnIntegerBelowTwoTo64IsRefused) {
  const TempDir dir;
  const std::string weights = tiny_weights(dir / "w.safetensors");
  const std::string sample = "sample --backend reference --samples 1 --weights " + weights + " --inputs " +
                             write_task(dir / "t.safetensors", paper_task0()) + " --seed ";
  for (const std::string bad : {"-1", "18446744073709551616", "''", "1e3", "+1", "' 1'", "0x10", "1.0", "-0"}) {
    const CommandResult r = run_cli(sample + bad);
    EXPECT_EQ(r.status, 2) << bad << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("is not a seed: a seed is an integer in [0, 2^64)")) << bad;
  }
  for (const std::string good : {"0", "18446744073709551615"}) {
    const CommandResult r = run_cli(sample + good);
    EXPECT_EQ(r.status, 0) << good << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("seed " + good));
  }
  EXPECT_EQ(run_cli("vectors --out " + (dir / "v").string() + " --seed -5").status, 2);
  EXPECT_EQ(run_cli("verify --quick --seed -5").status, 2);
}

TEST(CliTests, CombinationsOneTableRefusesTheSameOptionsWithOrWithoutAGpu) {
  // Refused before any work and before the no-GPU notice, wherever the job would run.
  for (const std::string refused : {"sample --samples 1 --seed 1 --precision mixed", "density --attention reencode --precision mixed",
                                    "density --backend reference --attention split",
                                    "density --backend reference --precision float32", "sample --samples 1 --seed 1 --backend cuda --precision float64",
                                    "density --backend cpu --attention fused", "density --backend reference --precision tf32",
                                    "sample --samples 1 --seed 1 --backend cuda --attention reencode --precision tf32x3",
                                    "density --backend cpu --precision float64"}) {
    const CommandResult r = run_cli(refused + kPaper);
    EXPECT_EQ(r.status, 2) << refused << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("is not supported; what goes together:")) << refused;
    EXPECT_THAT(r.output, Not(HasSubstr("no usable CUDA GPU"))) << refused;
  }
  const CommandResult ok = run_cli("density --backend reference --precision float64" + kPaper);
  EXPECT_EQ(ok.status, 0) << ok.output;
  const CommandResult help = run_cli("density --help");
  EXPECT_THAT(help.output, HasSubstr("What goes together"));
  EXPECT_THAT(help.output, HasSubstr("fused, split, reencode"));
  EXPECT_THAT(help.output, HasSubstr("multiprecision-50"));
  EXPECT_THAT(help.output, HasSubstr("tf32x3"));
}

}  // namespace
}  // namespace artabpfn::test_support
