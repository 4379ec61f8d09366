#pragma once
// The verification report (`artabpfn verify`): one run that answers "does this build, on this
// machine, compute what the reference computes?" and records enough to audit the answer later.
//
//   1. conformance: the conformance vectors (quick or full set) are generated into a scratch
//      folder, an implementation (the CUDA kernels and engine, or the float32 CPU implementation
//      where no GPU is usable) runs on them in process, `artabpfn check` logic compares in
//      float32, and the cases are aggregated per contract (kernel or engine job): cases, distinct
//      shapes, max and 99th-percentile error against the double reference, the tolerance,
//      pass/fail, and the worst error / limit under every precision the contract serves;
//   2. properties: the RapidCheck property and edge-case executables of a build tree run with a
//      given seed and case count; per test, the cases run (RapidCheck's progress marks) and status;
//   3. environment: GPU, driver and CUDA versions, compiler, build flags, git commit and the
//      checksums of the fixtures against their SHA256SUMS manifests.
// The same content is printed as tables, written as JSON (schema artabpfn-verify-report) and as
// JUnit XML, each with the schema version.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "conformance/adapter.hpp"
#include "conformance/check.hpp"
#include "tolerance/precision.hpp"

namespace artabpfn::verify {

inline constexpr const char* kSchema = "artabpfn-verify-report";
inline constexpr int kSchemaVersion = 1;

// ---- conformance -------------------------------------------------------------------------------

struct ContractRow {
  std::string contract;
  std::string kind;  // "kernel" or "engine job"
  int cases = 0, passed = 0, failed = 0, skipped = 0;  // failed: failing, missing or unreadable
  int not_applicable = 0;  // cases that do not serve the precision judged (conformance/check.hpp)
  int shapes = 0;  // distinct combinations of input shapes among the run cases
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> param_ranges;  // size parameters: min, max
  double max_error = 0.0;  // over every output element of every run case (NaN if any result is NaN)
  double p99_error = 0.0;  // 99th percentile (nearest rank) over the same elements
  // The output with the largest error / limit ratio (NaN the worst): its case, name, worst element,
  // that element's error, the output's frozen limit, and the ratio of the two.
  std::string worst_case, worst_output;
  std::vector<std::int64_t> worst_position;
  double worst_error = 0.0;
  double tolerance = 0.0;
  double worst_ratio = 0.0;
  // Per precision the contract serves: the largest error / that precision's frozen limit over
  // the run cases' outputs (NaN the worst). A float32 implementation stays below 1 in each.
  std::map<tolerance::Precision, double> worst_ratio_by_precision;
  std::vector<std::string> failing;  // case names
  std::string status() const;        // "pass", "fail", "not applicable" or "skipped" (no case run)
  int run() const { return cases - skipped - not_applicable; }  // the cases checked
};

struct ConformanceSection {
  std::string implementation;  // "cuda" or "float32-cpu"
  std::string engine_precision = "float32";  // the cuda implementation's: float32, tf32 or tf32x3
  tolerance::Precision judged = tolerance::Precision::kFloat32;  // tolerance::engine_precision_judged_as it
  std::string set;             // "quick" or "full"
  std::uint64_t seed = 0;
  std::string mutant;          // ARTABPFN_MUTANT where one was planted in the implementation
  std::vector<ContractRow> rows;
  std::vector<std::string> adapter_errors;  // cases that threw in the implementation
  double seconds = 0.0;
  int cases() const;
  int failed() const;
  bool ok() const;  // some case ran and none failed
};

struct ConformanceOptions {
  std::string set = "quick";
  std::uint64_t seed = 0;
  std::filesystem::path work_dir;  // vectors/ and results/ are written here
  std::string implementation;     // its name in the report
  std::string engine_precision = "float32";  // float32, tf32 or tf32x3 (the cuda implementation's)
};

// Generates the vectors, runs `implementation` on them, checks and aggregates.
ConformanceSection run_conformance(const ConformanceOptions& options, const conformance::Implementation& implementation);
// The aggregation alone (exposed for tests): rows in the order of conformance::contracts().
std::vector<ContractRow> summarize(const conformance::Index& index, const conformance::CheckReport& report);
// "kernel" or "engine job".
std::string contract_kind(const std::string& contract);

// ---- properties --------------------------------------------------------------------------------

struct PropertyTest {
  std::string name;    // Suite.Test
  std::string status;  // "passed", "failed" or "skipped"
  std::int64_t cases = 0;  // RapidCheck cases that passed (progress marks); 1 for a plain test
  bool property = false;   // RapidCheck ran (progress marks seen)
  std::string message;     // skip reason or first failure lines
};

struct PropertyExecutable {
  std::string name, path;
  bool gpu = false;  // under a gpu_* folder
  std::string status;  // "passed", "failed", "skipped" (not run: no GPU) or "error" (crashed, no tests parsed)
  std::string note;
  int exit_code = 0;
  double seconds = 0.0;
  std::vector<PropertyTest> tests;
};

struct PropertiesSection {
  std::string tests_dir;
  std::uint64_t seed = 0;
  int max_success = 0;
  std::vector<PropertyExecutable> executables;
  std::string problem;  // set when nothing could be run (no tests directory)
  bool ok() const;
};

struct PropertyOptions {
  std::filesystem::path tests_dir;  // a build tree: properties/*/ and edge_cases/*/ executables
  std::uint64_t seed = 0;
  int max_success = 100;
  bool gpu = false;            // run the gpu_* executables (else they are reported as not run)
  std::string gpu_skip_reason; // why not, for the report
};

// The test executables under tests_dir/properties/*/ and tests_dir/edge_cases/*/, by path.
std::vector<std::filesystem::path> find_property_executables(const std::filesystem::path& tests_dir);
PropertiesSection run_properties(const PropertyOptions& options);
// Parses GoogleTest's console output with RapidCheck's verbose_progress marks (one '.' per passing
// case) into tests (exposed for tests).
std::vector<PropertyTest> parse_test_output(const std::string& text);

// ---- environment -------------------------------------------------------------------------------

struct FixtureChecksum {
  std::string file;  // relative to the fixtures folder
  std::string expected, actual;
  bool ok() const { return !expected.empty() && expected == actual; }
};

struct Environment {
  std::string version, git_commit;
  std::string gpu;  // "none: <reason>" without one
  std::string gpu_compute, cuda_driver, cuda_runtime, nvidia_driver;
  std::string compiler, cuda_compiler, build_type, build_flags;
  std::string fixtures_dir;
  std::vector<FixtureChecksum> fixtures;
  std::string fixtures_problem;  // no manifest found
  bool ok() const;
};

// Every file listed in a SHA256SUMS file under `dir`, with its actual checksum.
std::vector<FixtureChecksum> check_fixtures(const std::filesystem::path& dir);
// The compiler, CUDA compiler, build type and flags this library was built with.
void fill_build_info(Environment& environment);
// The NVIDIA kernel driver version from /proc/driver/nvidia/version, or "".
std::string nvidia_driver_version();

// ---- the report --------------------------------------------------------------------------------

struct Report {
  bool quick = true;
  std::uint64_t seed = 0;
  std::string command;
  ConformanceSection conformance;
  PropertiesSection properties;
  Environment environment;
  double seconds = 0.0;
  bool ok() const { return conformance.ok() && properties.ok() && environment.ok(); }
};

void print_conformance(const ConformanceSection& section, std::FILE* out);
void print_properties(const PropertiesSection& section, std::FILE* out);
void print_environment(const Environment& environment, std::FILE* out);
void write_json(const Report& report, const std::filesystem::path& path);
void write_junit(const Report& report, const std::filesystem::path& path);

}  // namespace artabpfn::verify
