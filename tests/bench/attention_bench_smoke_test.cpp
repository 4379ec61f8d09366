// GPU smoke test of attention_bench: --validate-only validates every kernel at every head-dim class
// and instance on tiny sizes (seconds) and writes the stamped JSON; attention_bench_mutants (the
// same program built with the planted faults of conformance/cuda/planted_faults.cuh) stops with exit status 1
// before timing anything when a fault is planted. Skips without a GPU.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "tests/support/gpu_available.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct BenchRun {
  int exit_status = -1;
  std::string log;
  json out;  // null where no JSON was written
};

BenchRun run_bench(const std::string& environment, const fs::path& binary, const std::string& arguments) {
  const artabpfn::test_support::TempDir dir;
  std::ostringstream command;
  command << environment << " '" << binary.string() << "' " << arguments << " --json '" << (dir / "out.json").string()
          << "' > '" << (dir / "log").string() << "' 2>&1";
  const int status = std::system(command.str().c_str());
  BenchRun r;
  r.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream log(dir / "log");
  r.log.assign(std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>());
  if (std::ifstream in(dir / "out.json"); in) r.out = json::parse(in);
  return r;
}

void expect_stamp(const json& j) {
  EXPECT_FALSE(j.at("commit").get<std::string>().empty());
  for (const char* key : {"name", "compute_capability", "driver_cuda_version", "runtime_version"})
    EXPECT_FALSE(j.at("device").at(key).get<std::string>().empty()) << key;
  EXPECT_FALSE(j.at("date").get<std::string>().empty());
}

TEST(BenchTests, AttentionSmokeValidatesEveryKernelAtEveryHeadDimClassAndInstance) {
  ARTABPFN_REQUIRE_GPU();
  const BenchRun r = run_bench("", ARTABPFN_ATTENTION_BENCH_PATH, "--validate-only");
  ASSERT_EQ(r.exit_status, 0) << r.log;
  ASSERT_TRUE(r.out.is_object()) << r.log;
  EXPECT_EQ(r.out.at("schema"), "artabpfn.attention_bench");
  expect_stamp(r.out);
  EXPECT_EQ(r.out.at("status"), "validated");
  EXPECT_FALSE(r.out.contains("points")) << "--validate-only timed something";

  std::set<std::string> kernels;
  std::map<std::pair<std::string, int>, std::set<int>> instances;  // (kernel, Dh) -> blocks an SM
  for (const json& v : r.out.at("validation")) {
    ASSERT_EQ(v.at("status"), "ok") << v.dump();
    const std::string kernel = v.at("kernel");
    kernels.insert(kernel);
    if (kernel != "merge") instances[{kernel, v.at("head_dim").get<int>()}].insert(v.at("blocks_per_sm").get<int>());
  }
  EXPECT_EQ(kernels, (std::set<std::string>{"shared", "buffer_decode", "merge", "fused_decode", "buffer_teacher_forcing",
                                            "fused_teacher_forcing", "expanded"}));
  // Each class's widest Dh and one inside it; two lanes a row (Dh <= 32) also four blocks an SM.
  const std::set<int> head_dims = {5, 8, 12, 16, 30, 32, 48, 64, 100, 128, 130, 256};
  EXPECT_EQ(instances.size(), 6 * head_dims.size());
  for (const auto& [key, blocks] : instances) {
    EXPECT_TRUE(head_dims.count(key.second)) << key.second;
    const std::set<int> expected = key.second <= 32 ? std::set<int>{2, 4} : std::set<int>{2};
    EXPECT_EQ(blocks, expected) << key.first << " Dh " << key.second;
  }
}

TEST(BenchTests, AttentionSmokeAPlantedKernelFaultStopsItBeforeTiming) {
  ARTABPFN_REQUIRE_GPU();
  const fs::path mutants = ARTABPFN_ATTENTION_BENCH_MUTANTS_PATH;
  if (mutants.empty()) GTEST_SKIP() << "attention_bench_mutants not built (ARTABPFN_CUDA_MUTATIONS=OFF)";
  // Faults of the row-tile kernels that this problem exposes (one task, no empty context).
  for (const char* mutant : {"tf32_context", "no_score_scale", "lse_base2", "target_sees_itself"}) {
    SCOPED_TRACE(mutant);
    const BenchRun r = run_bench(std::string("ARTABPFN_MUTANT=") + mutant, mutants, "--quick");
    EXPECT_EQ(r.exit_status, 1) << r.log;
    EXPECT_NE(r.log.find("validation failed; nothing timed"), std::string::npos) << r.log;
    ASSERT_TRUE(r.out.is_object()) << r.log;
    expect_stamp(r.out);
    EXPECT_EQ(r.out.at("status"), "validation failed");
    EXPECT_FALSE(r.out.contains("ceilings"));
    EXPECT_FALSE(r.out.contains("points"));
    ASSERT_FALSE(r.out.at("validation").empty());
    EXPECT_EQ(r.out.at("validation").back().at("status"), "failed");
  }
}

}  // namespace
