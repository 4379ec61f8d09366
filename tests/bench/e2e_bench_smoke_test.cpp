// GPU smoke test of the end-to-end benchmark driver: bench/run_e2e.sh --smoke (tiny shapes) runs
// e2e_bench and, where python can import torch, the PyTorch baseline, and merges one JSON file.
// Checks the file's structure and that every section measured something plausible. Skips
// without a GPU.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "tests/support/fixtures_dir.hpp"
#include "tests/support/gpu_available.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;

std::string quoted(const fs::path& p) {
  std::ostringstream out;
  out << '\'' << p.string() << '\'';
  return out.str();
}

TEST(BenchTests, E2eDriverWritesACompleteResultFile) {
  ARTABPFN_REQUIRE_GPU();
  const fs::path fixtures = artabpfn::test_support::fixtures_dir();
  const fs::path script = fixtures.parent_path() / "bench" / "run_e2e.sh";
  fs::path bench = ARTABPFN_E2E_BENCH_PATH;
  if (const char* env = std::getenv("ARTABPFN_E2E_BENCH"); env && *env) bench = env;
  ASSERT_TRUE(fs::exists(script)) << script;
  ASSERT_TRUE(fs::exists(bench)) << bench << " (set ARTABPFN_E2E_BENCH)";
  const artabpfn::test_support::TempDir dir;
  std::ostringstream command;
  command << "ARTABPFN_E2E_BENCH=" << quoted(bench) << " ARTABPFN_WEIGHTS="
          << quoted(fixtures / "peer" / "paper_weights.safetensors") << " bash " << quoted(script) << ' '
          << quoted(dir.path()) << " --smoke > " << quoted(dir / "driver.log") << " 2>&1";
  const int status = std::system(command.str().c_str());
  std::ifstream log(dir / "driver.log");
  const std::string log_text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  ASSERT_EQ(status, 0) << log_text;
  std::ifstream in(dir / "e2e.json");
  ASSERT_TRUE(in) << log_text;
  const nlohmann::json j = nlohmann::json::parse(in);

  EXPECT_EQ(j.at("schema_version"), 2);
  EXPECT_TRUE(j.at("complete").get<bool>());
  EXPECT_FALSE(j.at("commit").get<std::string>().empty());
  EXPECT_FALSE(j.at("device").at("name").get<std::string>().empty());
  EXPECT_FALSE(j.at("device").at("compute_capability").get<std::string>().empty());
  EXPECT_FALSE(j.at("device").at("driver_cuda_version").get<std::string>().empty());
  EXPECT_FALSE(j.at("device").at("runtime_version").get<std::string>().empty());
  EXPECT_GT(j.at("ceilings").at("fma_flops_per_s").get<double>(), 1e12);
  EXPECT_GT(j.at("ceilings").at("copy_bytes_per_s").get<double>(), 1e11);

  std::set<std::string> measured;
  for (const auto& p : j.at("points")) {
    ASSERT_EQ(p.at("status"), "ok") << p.dump();
    measured.insert(p.at("job").get<std::string>() + "/" + p.at("mode").get<std::string>());
    EXPECT_GT(p.at("median_ms").get<double>(), 0.0);
    const double fraction = p.at("floor").at("floor_fraction").get<double>();
    EXPECT_GT(fraction, 0.0) << p.dump();
    EXPECT_LE(fraction, 1.0) << "faster than the floor: " << p.dump();
    EXPECT_GT(p.at("peak_device_bytes").get<double>(), 0.0) << "allocation tracking did not take effect";
  }
  EXPECT_EQ(measured.size(), 6u);  // sample and density, fused, split and reencode

  ASSERT_FALSE(j.at("steps").empty());
  for (const auto& s : j.at("steps")) {
    ASSERT_EQ(s.at("status"), "ok") << s.dump();
    EXPECT_GT(s.at("graph_us").get<double>(), 0.0);
  }
  ASSERT_FALSE(j.at("profiles").empty());
  for (const auto& p : j.at("profiles")) {
    ASSERT_EQ(p.at("status"), "ok") << p.dump();
    std::set<std::string> stages;
    for (const auto& s : p.at("stages")) stages.insert(s.at("stage").get<std::string>());
    for (const char* expected : {"embed", "projections", "layer_norm", "kv_append", "context_attention", "buffer_attention",
                                 "merge", "feed_forward", "head", "sampling"})
      EXPECT_TRUE(stages.count(expected)) << expected;
    EXPECT_GT(p.at("staged_us").get<double>(), 0.0);
    EXPECT_TRUE(p.at("queued_ahead").get<bool>());
  }
  EXPECT_TRUE(j.contains("torch"));
  EXPECT_TRUE(j.contains("speedup_over_reencode"));
  EXPECT_TRUE(j.contains("headline"));
}

}  // namespace
