// replay (issue 22, item 4): the rerun is compared with the recorded output file the manifest
// names, by its SHA-256 and value by value (CSV and safetensors alike); a missing or edited output
// exits 1 naming the difference.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "artabpfn/safetensors.hpp"
#include "artabpfn/sha256.hpp"
#include "tests/cli/cli_inputs.hpp"
#include "tests/cli/cli_run.hpp"
#include "tests/support/temp_dir.hpp"

namespace artabpfn::test_support {
namespace {

using ::testing::HasSubstr;

struct Recorded {
  TempDir dir;
  std::string weights = tiny_weights(dir / "w.safetensors");
  std::string inputs = write_task(dir / "in.safetensors", paper_task0());
  std::string out, manifest;
  explicit Recorded(const std::string& name, const std::string& job = "sample --samples 4 --seed 3",
                    const std::string& backend = "--backend reference") {
    out = (dir / name).string();
    manifest = out + ".manifest.json";
    const CommandResult r =
        run_cli(job + " " + backend + " --weights " + weights + " --inputs " + inputs + " --out " + out);
    EXPECT_EQ(r.status, 0) << r.output;
  }
};

TEST(CliTests, ReplayAnUntouchedOutputReplaysIdentically) {
  for (const std::string name : {"s.csv", "s.safetensors"}) {
    const Recorded run(name);
    const CommandResult r = run_cli("replay " + run.manifest);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("identical: the rerun reproduces '" + run.out + "' bit for bit"));
  }
}

TEST(CliTests, ReplayCpuBackendRunsReplayInTheirPrecision) {
  for (const std::string precision : {"float32", "tf32", "tf32x3"})
    for (const std::string job : {"sample --samples 4 --seed 3", "density"}) {
      const Recorded run("s.csv", job, "--backend cpu --precision " + precision);
      const nlohmann::json manifest = nlohmann::json::parse(read_text(run.manifest));
      EXPECT_EQ(manifest.at("backend"), "cpu");
      EXPECT_EQ(manifest.at("precision"), precision);
      const CommandResult r = run_cli("replay " + run.manifest);
      EXPECT_EQ(r.status, 0) << precision << " " << job << "\n" << r.output;
      EXPECT_THAT(r.output, HasSubstr("identical: the rerun reproduces '" + run.out + "' bit for bit"));
    }
}

TEST(CliTests, ReplayAnEditedCsvOutputIsDifferentAndTheValueIsNamed) {
  const Recorded run("s.csv");
  std::string text = read_text(run.out);
  // Line 2 is "0,0,<y_0>,<y_1>,...": y_1 of task 0, sample 0 becomes 12345.
  std::size_t at = text.find('\n') + 1;
  for (int comma = 0; comma < 3; ++comma) at = text.find(',', at) + 1;
  text.replace(at, text.find(',', at) - at, "12345");
  write_text(run.out, text);
  const CommandResult r = run_cli("replay " + run.manifest);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("DIFFERENT: the recorded output '" + run.out + "' changed since the run"));
  EXPECT_THAT(r.output, HasSubstr(": 1 of 180 values differ"));
  EXPECT_THAT(r.output, HasSubstr("first at task 0, sample 0, target 1"));
}

TEST(CliTests, ReplayAMissingOutputIsDifferent) {
  const Recorded run("s.csv");
  std::filesystem::remove(run.out);
  const CommandResult r = run_cli("replay " + run.manifest);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("DIFFERENT: the recorded output '" + run.out + "' is missing"));
}

TEST(CliTests, ReplayASafetensorsOutputIsComparedValueByValue) {
  const Recorded run("d.safetensors", "density");
  // Change one value, and record the changed file's checksum: only the rerun can tell.
  safetensors::File file = safetensors::File::read(run.out);
  HostTensor<double> logpdf = file.to_f64("logpdf");
  logpdf.data[5] += 0.25;
  safetensors::Writer w;
  w.add("logpdf", logpdf);
  w.add("target_len", file.to_i64("target_len"));
  w.write(run.out);
  nlohmann::json m = nlohmann::json::parse(read_text(run.manifest));
  m["output"]["sha256"] = sha256_file_hex(run.out);
  write_text(run.manifest, m.dump(2));
  const CommandResult r = run_cli("replay " + run.manifest);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("does not reproduce the recorded output"));
  EXPECT_THAT(r.output, HasSubstr(": 1 of 45 values differ, largest difference 2.500e-01"));
  EXPECT_THAT(r.output, HasSubstr("first at task 0, set 0, target 5"));
}

TEST(CliTests, ReplayTheRecordedOutputPathIsUsedWhateverTheManifestIsCalled) {
  const Recorded run("s.csv");
  const std::string renamed = (run.dir / "t1.json").string(), rerun = (run.dir / "t1.csv").string();
  std::filesystem::rename(run.manifest, renamed);
  const CommandResult r = run_cli("replay " + renamed + " --out " + rerun);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("reproduces '" + run.out + "'"));
  EXPECT_EQ(read_text(rerun), read_text(run.out));
  // The rerun may not go over the recorded output or an input.
  for (const std::string& protected_file : {run.out, run.inputs}) {
    const CommandResult refused = run_cli("replay " + renamed + " --out " + protected_file);
    EXPECT_EQ(refused.status, 2) << refused.output;
    EXPECT_THAT(refused.output, HasSubstr("refusing to overwrite"));
  }
}

}  // namespace
}  // namespace artabpfn::test_support
