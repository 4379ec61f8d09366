// artabpfn verify: the verification report (verify/verify.hpp). Conformance of the CUDA kernels
// and engine (or, where no GPU is usable, of the float32 CPU implementation) per contract, the
// property executables of the build tree with their seed and case counts, and the environment;
// tables on stdout, JSON and JUnit XML with --report-dir; exit status 1 on any failure.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "artabpfn/error.hpp"
#include "command_options.hpp"
#include "commands.hpp"
#include "conformance/float32_cpu/implementation.hpp"
#include "conformance/float32_cpu/mutants.hpp"
#include "conformance/vectors.hpp"
#include "jobs/backend.hpp"
#include "output_file.hpp"
#include "tolerance/precision.hpp"
#include "value_checks.hpp"
#include "verify/verify.hpp"
#if ARTABPFN_HAS_ENGINE
#include "conformance/cuda/cuda_implementation.hpp"
#include "kernels/device.hpp"
#endif

namespace artabpfn::cli {
namespace {

struct VerifyOptions {
  bool quick = false, skip_properties = false, keep_work = false;
  std::uint64_t seed = conformance::kDefaultSeed;
  std::string report_dir, tests_dir, work_dir, fixtures, implementation = "auto", precision = "float32";
  int max_success = 0;  // 0: 10 with --quick, 100 otherwise
};

void describe_gpu(verify::Environment& e, const std::string& unavailable) {
  e.nvidia_driver = verify::nvidia_driver_version();
  if (!unavailable.empty()) {
    e.gpu = "none: " + unavailable;
    return;
  }
#if ARTABPFN_HAS_ENGINE
  const kernels::GpuInfo info = kernels::gpu_info();
  e.gpu = info.name;
  e.gpu_compute = info.compute_capability;
  e.cuda_driver = info.driver_cuda_version;
  e.cuda_runtime = info.runtime_version;
#endif
}

// The build tree this binary belongs to (BUILD/apps/artabpfn -> BUILD).
std::filesystem::path default_tests_dir() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return ".";
  return self.parent_path().parent_path();
}

std::filesystem::path make_work_dir() {
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  std::filesystem::path dir = std::filesystem::temp_directory_path() / fmt::format("artabpfn-verify-{}-{}", getpid(), stamp);
  std::filesystem::create_directories(dir);
  return dir;
}

void run_verify(const VerifyOptions& o, const std::string& command) {
  const auto start = std::chrono::steady_clock::now();
  if (!o.report_dir.empty()) prepare_output_folder(o.report_dir, "--report-dir");
  verify::Report report;
  report.quick = o.quick;
  report.seed = o.seed;
  report.command = command;

  // Which implementation the conformance vectors check.
  const std::string unavailable = jobs::gpu_unavailable();
  std::string implementation = o.implementation;
  if (implementation != "auto" && implementation != "cuda" && implementation != "float32-cpu")
    throw InputError("--implementation must be auto, cuda or float32-cpu, not '" + implementation + "'");
  const char* expect = std::getenv("ARTABPFN_EXPECT_GPU");
  const bool expect_gpu = expect && *expect == '1';
  if (!unavailable.empty() && (implementation == "cuda" || expect_gpu)) {
    fmt::print(stderr, "verify: FAIL: no usable CUDA GPU ({}){}\n", unavailable,
               expect_gpu ? " but ARTABPFN_EXPECT_GPU=1" : " and --implementation cuda was asked for");
    throw CLI::RuntimeError(1);
  }
  // The one line that says why there is no GPU (the tables below say only "not run").
  if (!unavailable.empty())
    fmt::print("verify: no usable CUDA GPU ({}); {}GPU properties not run\n", unavailable,
               implementation == "auto" ? "checking the float32 CPU implementation (conformance/float32_cpu) instead, "
                                        : "");
  if (implementation == "auto") implementation = unavailable.empty() ? "cuda" : "float32-cpu";
  if (implementation == "float32-cpu" && o.precision != "float32")
    throw InputError("verify --precision " + o.precision + " runs the CUDA engine in that precision; the float32 CPU "
                     "implementation" + (unavailable.empty() ? "" : " (no usable CUDA GPU)") + " runs float32 only");
  conformance::Implementation functions;
#if ARTABPFN_HAS_ENGINE
  if (implementation == "cuda") functions = conformance::cuda_implementation(engine::parse_precision(o.precision));
#endif
  if (implementation == "float32-cpu") {
    conformance::cpu::Mutant m{};
    try {
      m = conformance::cpu::active_mutant();
    } catch (const std::invalid_argument& e) {  // an unknown ARTABPFN_MUTANT
      throw InputError(e.what());
    }
    for (const auto& info : conformance::cpu::mutants())
      if (info.id == m) fmt::print("verify: mutant {} planted in the float32 CPU implementation: {}\n", info.name, info.description);
    functions = conformance::float32_cpu_implementation();
  }

  const std::filesystem::path work = o.work_dir.empty() ? make_work_dir() : std::filesystem::path(o.work_dir);
  struct Cleanup {
    std::filesystem::path dir;
    bool keep;
    ~Cleanup() {
      std::error_code ignored;
      if (!keep) std::filesystem::remove_all(dir, ignored);
    }
  } cleanup{work, o.keep_work || !o.work_dir.empty()};

  verify::ConformanceOptions conformance_options;
  conformance_options.set = o.quick ? "quick" : "full";
  conformance_options.seed = o.seed;
  conformance_options.work_dir = work;
  conformance_options.implementation = implementation;
  conformance_options.engine_precision = o.precision;
  report.conformance = verify::run_conformance(conformance_options, functions);
  verify::print_conformance(report.conformance, stdout);
  std::fflush(stdout);

  verify::PropertyOptions property_options;
  property_options.tests_dir = o.tests_dir.empty() ? default_tests_dir() : std::filesystem::path(o.tests_dir);
  property_options.seed = o.seed;
  property_options.max_success = o.max_success > 0 ? o.max_success : (o.quick ? 10 : 100);
  property_options.gpu = unavailable.empty();
  property_options.gpu_skip_reason = "no usable CUDA GPU";  // why not: said once, above
  if (o.skip_properties) {
    report.properties.tests_dir = property_options.tests_dir.string();
    report.properties.seed = o.seed;
    report.properties.max_success = property_options.max_success;
    report.properties.problem = "not run (--skip-properties)";
    fmt::print("\nproperties: not run (--skip-properties)\n");
  } else {
    report.properties = verify::run_properties(property_options);
    verify::print_properties(report.properties, stdout);
  }
  std::fflush(stdout);

  verify::Environment& env = report.environment;
  env.version = ARTABPFN_VERSION;
  const char* commit = std::getenv("ARTABPFN_GIT_COMMIT");
  env.git_commit = commit && *commit ? commit : ARTABPFN_GIT_COMMIT;
  describe_gpu(env, unavailable);
  verify::fill_build_info(env);
  env.fixtures_dir = fixtures_dir(o.fixtures);
  env.fixtures = verify::check_fixtures(env.fixtures_dir);
  if (env.fixtures.empty()) env.fixtures_problem = "no SHA256SUMS manifest under " + env.fixtures_dir;
  verify::print_environment(env, stdout);

  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!o.report_dir.empty()) {
    const std::filesystem::path dir = o.report_dir;
    verify::write_json(report, dir / "verify.json");
    verify::write_junit(report, dir / "verify.junit.xml");
    fmt::print("\nreports: {}, {}\n", (dir / "verify.json").string(), (dir / "verify.junit.xml").string());
  }
  fmt::print("\nverify: {} ({} mode, {} implementation, {:.1f} s): conformance {}, properties {}, environment {}\n",
             report.ok() ? "PASS" : "FAIL", o.quick ? "quick" : "full", implementation, report.seconds,
             report.conformance.ok() ? "pass" : "FAIL", report.properties.ok() ? "pass" : "FAIL",
             env.ok() ? "pass" : "FAIL");
  std::fflush(stdout);
  if (!report.ok()) throw CLI::RuntimeError(1);
}

}  // namespace

void add_verify_command(CLI::App& app) {
  auto o = std::make_shared<VerifyOptions>();
  CLI::App* command = app.add_subcommand(
      "verify", "verification report: conformance per kernel and engine job, properties, environment (exit 1 on any failure)");
  command->add_flag("--quick", o->quick, "quick conformance vectors and 10 cases per property (under a minute on one GPU)");
  command->add_option("--report-dir", o->report_dir, "write verify.json and verify.junit.xml here");
  command->add_option("--seed", o->seed, "seed of the conformance vectors and of RapidCheck (RC_PARAMS seed)")
      ->check(seed_value());
  command->add_option("--tests-dir", o->tests_dir,
                      "build tree holding properties/*/ and edge_cases/*/ test executables (default: the one of this binary)");
  command->add_option("--max-success", o->max_success, "cases per property (default 10 with --quick, else 100)")
      ->check(integer_in(1, INT_MAX));
  command->add_option("--implementation", o->implementation,
                      "auto (CUDA where a GPU is usable, else the float32 CPU implementation), cuda or float32-cpu");
  command->add_option("--precision", o->precision,
                      "the engine precision the cuda implementation runs the model jobs in: float32 (default), tf32 "
                      "(judged as tf32) or tf32x3 (judged as float32)")
      ->check(CLI::IsMember(tolerance::kJudgedEnginePrecisions));
  command->add_flag("--skip-properties", o->skip_properties, "do not run the property executables (the report then fails)");
  command->add_option("--work-dir", o->work_dir, "keep the vectors and results here (default: a temporary folder, removed)");
  command->add_option("--fixtures", o->fixtures, "fixtures folder (default: $ARTABPFN_FIXTURES_DIR or the bundled one)");
  command->callback([o, command] { run_verify(*o, command_line(*command)); });
}

}  // namespace artabpfn::cli
