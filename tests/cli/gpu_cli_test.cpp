// The command line on the CUDA engine (labels gpu; skip without a GPU): `artabpfn verify` checks
// the CUDA implementation and runs the GPU properties; `demo` runs on the engine; `sample` and
// `density` with --backend cuda
// write a manifest from which `replay` reproduces the output bit for bit, and a recorded output
// that differs from the rerun is reported with the number of differing values.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "artabpfn/sha256.hpp"
#include "tests/cli/cli_inputs.hpp"
#include "tests/cli/cli_run.hpp"
#include "tests/support/fixtures_dir.hpp"
#include "tests/support/gpu_available.hpp"
#include "tests/support/peer_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace artabpfn::test_support {
namespace {

using nlohmann::json;

TEST(CliTests, GpuVerifyQuickReportChecksTheCudaImplementationAndRunsGpuProperties) {
  ARTABPFN_REQUIRE_GPU();
  const TempDir dir;
  const CommandResult r = run_cli("verify --quick --implementation cuda --tests-dir " + build_dir() +
                                  " --report-dir " + dir.path().string());
  std::cout << r.output;  // the report, for the log
  ASSERT_EQ(r.status, 0) << r.output;
  const json j = json::parse(read_text(dir.path() / "verify.json"));
  EXPECT_EQ(j.at("schema_version"), 1);
  EXPECT_EQ(j.at("ok"), true);
  EXPECT_EQ(j.at("conformance").at("implementation"), "cuda");
  int kernels = 0, jobs = 0;
  for (const json& row : j.at("conformance").at("contracts")) {
    EXPECT_NE(row.at("status"), "fail") << row.dump();
    if (row.at("status") == "pass") (row.at("kind") == "kernel" ? kernels : jobs) += 1;
  }
  EXPECT_GE(kernels, 6);  // attention (4), merge, mixture parameters, sampler
  EXPECT_GE(jobs, 3);     // both densities and sample_sequence
  int gpu_passed = 0;
  for (const json& e : j.at("properties").at("executables"))
    if (e.at("gpu") == true && e.at("status") == "passed") ++gpu_passed;
  EXPECT_GE(gpu_passed, 3) << j.at("properties").dump();
  const json& env = j.at("environment");
  EXPECT_NE(env.at("gpu").get<std::string>().rfind("none", 0), 0u) << env.dump();
  EXPECT_FALSE(env.at("cuda_runtime").get<std::string>().empty());
  EXPECT_FALSE(env.at("gpu_compute").get<std::string>().empty());
  std::cout << "verify --quick took " << j.at("seconds").get<double>() << " s\n";
}

// Runs `job` on the CUDA backend into OUT and checks that replay reproduces it, then records a
// different output (one value changed, its checksum in the manifest) and checks that replay
// reports exactly one differing value. The manifest must record `precision`.
void check_replay(const std::string& job, const std::filesystem::path& out, const std::string& precision = "float32") {
  const CommandResult run = run_cli(job + " --backend cuda --weights " + peer("paper_weights.safetensors") +
                                    " --inputs " + peer("paper_io.safetensors") + " --out " + out.string());
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(run.output.find("running the CPU reference"), std::string::npos) << run.output;
  const std::filesystem::path manifest = out.string() + ".manifest.json";
  ASSERT_TRUE(std::filesystem::exists(manifest));
  json m = json::parse(read_text(manifest));
  EXPECT_EQ(m.at("backend"), "cuda") << m.dump();
  EXPECT_EQ(m.at("precision"), precision) << m.dump();
  const std::string recorded_sha = m.at("output").at("sha256").get<std::string>();
  EXPECT_EQ(recorded_sha, sha256_file_hex(out));

  const CommandResult same = run_cli("replay " + manifest.string());
  EXPECT_EQ(same.status, 0) << same.output;
  EXPECT_NE(same.output.find("identical"), std::string::npos) << same.output;

  // Tamper with the recorded output: change the first value of the first data row.
  std::stringstream rewritten;
  {
    std::ifstream in(out);
    std::string line;
    std::getline(in, line);
    rewritten << line << "\n";
    std::getline(in, line);
    std::size_t at = 0;
    for (int comma = 0; comma < 2; ++comma) at = line.find(',', at) + 1;
    const std::size_t end = line.find(',', at);
    const double value = std::stod(line.substr(at, end - at));
    std::ostringstream changed;
    changed << std::setprecision(17) << value + 0.5;
    rewritten << line.substr(0, at) << changed.str() << line.substr(end) << "\n";
    rewritten << in.rdbuf();
  }
  std::ofstream(out, std::ios::binary) << rewritten.str();
  m["output"]["sha256"] = sha256_file_hex(out);  // the manifest now records the tampered output
  ASSERT_NE(m.at("output").at("sha256"), recorded_sha);
  std::ofstream(manifest, std::ios::binary) << m.dump(2) << "\n";
  const CommandResult different = run_cli("replay " + manifest.string());
  EXPECT_EQ(different.status, 1) << different.output;
  EXPECT_NE(different.output.find("DIFFERENT"), std::string::npos) << different.output;
  EXPECT_NE(different.output.find(": 1 of "), std::string::npos) << different.output;
  EXPECT_NE(different.output.find("largest difference 5.000e-01"), std::string::npos) << different.output;
}

// `artabpfn demo` with a GPU: the CUDA engine, no fallback notice, and every task's per-target
// gap to the peer's float64 densities within the parity criterion of gpu_parity_tests (2x the
// plain float32 reference's largest error on this fixture, 1.525e-4 measured on the H100).
TEST(CliTests, GpuDemoRunsOnTheCudaEngineWithinTheParityBound) {
  ARTABPFN_REQUIRE_GPU();
  const CommandResult r = run_cli("demo");
  std::cout << r.output;
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("backend: cuda (float32)"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("no usable CUDA GPU"), std::string::npos) << r.output;
  // The parity bound of gpu_parity_tests: 2x the plain float32 error on the same fixture.
  const double bound = 2 * plain_float32_tf_error(load_peer_fixture("paper"));
  // Rows "task Nc Nt joint gap" after the header line.
  std::istringstream lines(r.output.substr(r.output.find("max |d peer|")));
  std::string line;
  std::getline(lines, line);
  int rows = 0;
  while (std::getline(lines, line) && rows < 4) {
    std::istringstream row(line);
    int task = -1, nc = 0, nt = 0;
    double joint = 0, gap = 1;
    ASSERT_TRUE(row >> task >> nc >> nt >> joint >> gap) << line;
    EXPECT_EQ(task, rows);
    EXPECT_LE(gap, bound) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 4) << r.output;
}

TEST(CliTests, GpuReplayCudaSamplesReplayBitForBitAndATamperedOutputIsReported) {
  ARTABPFN_REQUIRE_GPU();
  const TempDir dir;
  check_replay("sample --samples 16 --seed 11", dir.path() / "samples.csv");
}

TEST(CliTests, GpuReplayCudaDensitiesReplayBitForBitAndATamperedOutputIsReported) {
  ARTABPFN_REQUIRE_GPU();
  const TempDir dir;
  check_replay("density --attention split", dir.path() / "density.csv");
}

TEST(CliTests, GpuReplayMixedPrecisionDensitiesReplayBitForBit) {
  ARTABPFN_REQUIRE_GPU();
  const TempDir dir;
  check_replay("density --precision mixed", dir.path() / "density.csv", "mixed");
}

// The tensor-core precisions through the command line: both jobs, replayed bit for bit.
TEST(CliTests, GpuReplayTensorCorePrecisionsReplayBitForBit) {
  ARTABPFN_REQUIRE_GPU();
  for (const std::string precision : {"tf32", "tf32x3"}) {
    const TempDir dir;
    check_replay("density --precision " + precision, dir.path() / "density.csv", precision);
    check_replay("sample --samples 16 --seed 11 --attention split --precision " + precision, dir.path() / "samples.csv",
                 precision);
  }
}

TEST(CliTests, GpuSampleRefusesMixedPrecisionWithAClearError) {
  ARTABPFN_REQUIRE_GPU();
  const CommandResult r = run_cli("sample --samples 2 --seed 1 --precision mixed --weights " +
                                  peer("paper_weights.safetensors") + " --inputs " + peer("paper_io.safetensors"));
  EXPECT_EQ(r.status, 2) << r.output;  // refused by the support table before the engine starts
  EXPECT_NE(r.output.find("sample --backend cuda --precision mixed is not supported"), std::string::npos) << r.output;
}

// The engine computes in float32: a used input beyond its range is refused before the run.
TEST(CliTests, GpuInputsBeyondFloat32AreRefused) {
  ARTABPFN_REQUIRE_GPU();
  const TempDir dir;
  TaskTensors t = paper_task0();
  t.y_target->data[3] = 1e155;
  const CommandResult r = run_cli("density --backend cuda --weights " + peer("paper_weights.safetensors") +
                                  " --inputs " + write_task(dir / "far.safetensors", t));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("y_target of task 0 holds 1e+155, beyond float32's range"), std::string::npos) << r.output;
}

// A value far outside the mixture but within float32: a density of -inf or a finite one, never
// NaN (or, should the float32 arithmetic overflow, exit status 2 and nothing written).
TEST(CliTests, GpuAFarValueNeverGivesNan) {
  ARTABPFN_REQUIRE_GPU();
  const TempDir dir;
  for (const double y : {1e20, 1e30, 3e38}) {
    TaskTensors t = paper_task0();
    t.y_target->data[3] = y;
    const std::string out = (dir / "far.csv").string();
    std::filesystem::remove(out);
    const CommandResult r = run_cli("density --backend cuda --weights " + peer("paper_weights.safetensors") +
                                    " --inputs " + write_task(dir / "far.safetensors", t) + " --out " + out);
    std::cout << "y " << y << ": " << r.output;
    if (r.status == 0) {
      EXPECT_EQ(read_text(out).find("nan"), std::string::npos) << read_text(out);
    } else {
      EXPECT_EQ(r.status, 2) << r.output;
      EXPECT_NE(r.output.find("overflowed"), std::string::npos) << r.output;
      EXPECT_FALSE(std::filesystem::exists(out));
    }
  }
}

}  // namespace
}  // namespace artabpfn::test_support
