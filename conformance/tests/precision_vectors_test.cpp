// The quick vector set in every precision: generation is deterministic, each plain implementation
// passes its own precision and (below float32) fails float32 on the realistic cases, the float32
// one passes every precision, and every contract with keys has a quick case past a 128-key tile.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include "conformance/check.hpp"
#include "conformance/plain/implementation.hpp"
#include "conformance/vectors.hpp"
#include "tests/support/temp_dir.hpp"

namespace artabpfn::conformance {
namespace {

using tolerance::Precision;

std::string bytes_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void generate_quick(const std::filesystem::path& dir) {
  VectorOptions options;
  options.set = "quick";
  write_vectors(dir, options);
}

TEST(ConformanceTests, GenerationWithOneSeedIsByteIdentical) {
  const test_support::TempDir dir;
  generate_quick(dir / "a");
  generate_quick(dir / "b");
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "a")) {
    const std::filesystem::path other = dir / "b" / entry.path().filename();
    ASSERT_TRUE(std::filesystem::exists(other)) << other;
    EXPECT_TRUE(bytes_of(entry.path()) == bytes_of(other)) << entry.path().filename() << " differs";
    ++files;
  }
  EXPECT_EQ(files, std::size_t(std::distance(std::filesystem::directory_iterator(dir / "b"), {})));
  EXPECT_GT(files, 100u);
}

bool has_family(const CaseSpec& c, const std::string& family) {
  return std::find(c.families.begin(), c.families.end(), family) != c.families.end();
}

// Runs the plain implementation of `arithmetic` on the vectors, then checks it in `precision`.
CheckReport run_plain(const std::filesystem::path& vectors, const std::filesystem::path& results,
                      plain::Arithmetic arithmetic, Precision precision) {
  if (!std::filesystem::exists(results)) {
    AdapterRun run;
    run.vectors = vectors;
    run.results = results;
    run.quiet = true;
    const AdapterSummary s = run_adapter(run, plain::plain_implementation(arithmetic), "plain");
    EXPECT_EQ(s.failed, 0) << plain::arithmetic_name(arithmetic);
  }
  CheckOptions options;
  options.vectors = vectors;
  options.results = results;
  options.precision = precision;
  options.allow_skipped = false;
  return run_check(options);
}

TEST(ConformanceTests, EachPlainImplementationPassesItsPrecisionAndBelowFloat32FailsFloat32OnTheRealisticCases) {
  const test_support::TempDir dir;
  const std::filesystem::path vectors = dir / "vectors";
  generate_quick(vectors);
  const Index index = read_index(vectors / "index.json");
  for (Precision precision : tolerance::kPrecisions)
    for (plain::Arithmetic a : plain::arithmetics(precision)) {
      const std::string name(plain::arithmetic_name(a));
      const std::filesystem::path results = dir / name;
      // Through the adapter and the checker, a plain implementation's error is the one the
      // generator froze for it (the largest of the precision's arithmetics): the two paths that
      // write, read and compare results agree. Passing its own precision follows.
      const CheckReport own = run_plain(vectors, results, a, precision);
      for (const CaseCheck& c : own.cases)
        for (const OutputCheck& o : c.outputs)
          EXPECT_LE(o.max_error, o.plain_error) << name << ": " << c.name << "." << o.output;
      EXPECT_TRUE(own.ok()) << name << ": " << own.failed << " failed, " << own.missing << " missing";
      if (a == plain::Arithmetic::kFloat32) {
        for (Precision looser : tolerance::kPrecisions) {
          const CheckReport r = run_plain(vectors, results, a, looser);
          EXPECT_EQ(r.failed + r.missing, 0) << "float32 under " << tolerance::precision_name(looser);
        }
        continue;
      }
      // Every realistic case (keys past a tile) it serves fails float32; not those with scores
      // ~1.2e5, whose errors the float32 rounding of the scores sets in every precision.
      const CheckReport f32 = run_plain(vectors, results, a, Precision::kFloat32);
      std::set<std::string> failing;
      for (const CaseCheck& c : f32.cases)
        if (c.status == "fail") failing.insert(c.name);
      int realistic = 0;
      for (const CaseSpec& c : index.cases) {
        if (!has_family(c, "key_tiles") || has_family(c, "scores_beyond_fp16") || !c.serves(precision)) continue;
        ++realistic;
        EXPECT_TRUE(failing.count(c.name)) << name << " passes float32 on " << c.name;
      }
      EXPECT_GT(realistic, 5) << name;
    }
}

TEST(ConformanceTests, QuickSetHasACasePastA128KeyTileForEveryContractWithKeys) {
  const test_support::TempDir dir;
  VectorOptions options;
  std::set<std::string> covered;
  const std::vector<std::string> names = planned_cases("quick");
  for (const std::string& name : names)
    if (name.find("paper_") != std::string::npos || name.find("nc150") != std::string::npos ||
        name.find("dh128_nc300") != std::string::npos)
      options.cases.push_back(name);
  write_vectors(dir / "v", options);
  for (const CaseSpec& c : read_index(dir / "v" / "index.json").cases) {
    std::int64_t keys = 0;
    for (const auto& [param, value] : c.params)
      if (param == "context_len_max" || param == "buffer_len" || param == "context_len") keys = std::max(keys, value);
    if (c.shapes.count("x_context")) keys = std::max(keys, c.shapes.at("x_context")[1]);
    if (c.shapes.count("context_keys")) keys = std::max(keys, c.shapes.at("context_keys")[1]);
    if (keys > 128 && keys % 128 != 0) covered.insert(c.contract);
  }
  for (const ContractInfo& c : contracts()) {
    const bool has_keys = c.name != "merge_states" && c.name != "mixture_parameters" && c.name != "sampler";
    if (has_keys) {
      EXPECT_TRUE(covered.count(c.name)) << c.name << " has no quick case past a 128-key tile";
    }
  }
}

}  // namespace
}  // namespace artabpfn::conformance
