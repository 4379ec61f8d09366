// Environment part of the verification report, and the report's three forms: tables, JSON, JUnit.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "artabpfn/error.hpp"
#include "artabpfn/sha256.hpp"
#include "conformance/check.hpp"
#include "verify/verify.hpp"

namespace artabpfn::verify {
namespace {

using conformance::xml_escape;

using nlohmann::json;

std::string ranges_text(const ContractRow& row) {
  std::string s;
  for (const auto& [name, range] : row.param_ranges) {
    if (!s.empty()) s += ", ";
    s += range.first == range.second ? fmt::format("{} {}", name, range.first)
                                     : fmt::format("{} {}-{}", name, range.first, range.second);
  }
  return s;
}

std::int64_t property_cases(const PropertyExecutable& e) {
  std::int64_t n = 0;
  for (const PropertyTest& t : e.tests) n += t.cases;
  return n;
}

// JSON has no infinity: non-finite numbers are written as strings.
json number(double v) { return std::isfinite(v) ? json(v) : json(fmt::format("{}", v)); }

}  // namespace

bool Environment::ok() const {
  if (!fixtures_problem.empty() || fixtures.empty()) return false;
  for (const FixtureChecksum& f : fixtures)
    if (!f.ok()) return false;
  return true;
}

std::vector<FixtureChecksum> check_fixtures(const std::filesystem::path& dir) {
  std::vector<FixtureChecksum> out;
  if (!std::filesystem::is_directory(dir)) return out;
  std::vector<std::filesystem::path> manifests;
  for (const auto& item : std::filesystem::recursive_directory_iterator(dir))
    if (item.path().filename() == "SHA256SUMS") manifests.push_back(item.path());
  std::sort(manifests.begin(), manifests.end());
  for (const std::filesystem::path& manifest : manifests) {
    std::ifstream in(manifest);
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      FixtureChecksum f;
      // `sha256sum` lines: 64 hex digits, a space, ' ' or '*', the file name.
      if (line.size() <= 66 || line[64] != ' ') {
        f.file = std::filesystem::relative(manifest, dir).string() + ": malformed line '" + line + "'";
        out.push_back(f);
        continue;
      }
      f.expected = line.substr(0, 64);
      const std::filesystem::path file = manifest.parent_path() / line.substr(66);
      f.file = std::filesystem::relative(file, dir).string();
      try {
        f.actual = sha256_file_hex(file);
      } catch (const std::exception&) {
        f.actual = "missing";
      }
      out.push_back(f);
    }
  }
  return out;
}

std::string nvidia_driver_version() {
  std::ifstream in("/proc/driver/nvidia/version");
  std::string line;
  if (!std::getline(in, line)) return {};
  // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.159.04  Tue ..."
  std::istringstream words(line);
  for (std::string w; words >> w;)
    if (!w.empty() && std::isdigit(static_cast<unsigned char>(w[0])) && w.find('.') != std::string::npos) return w;
  return {};
}

void fill_build_info(Environment& e) {
  e.compiler = ARTABPFN_VERIFY_CXX_COMPILER;
  e.cuda_compiler = ARTABPFN_VERIFY_CUDA_COMPILER;
  e.build_type = ARTABPFN_VERIFY_BUILD_TYPE;
  e.build_flags = ARTABPFN_VERIFY_BUILD_FLAGS;
}

void print_conformance(const ConformanceSection& s, std::FILE* out) {
  fmt::print(out, "conformance: {} implementation, {} vectors (seed {}), {} cases, {:.1f} s{}, engine precision {} judged as {}\n",
             s.implementation, s.set, s.seed, s.cases(), s.seconds,
             s.mutant.empty() ? "" : ", MUTANT " + s.mutant + " planted", s.engine_precision,
             tolerance::precision_name(s.judged));
  // p99 err pools every compared element; worst err, tolerance and ratio are one element's (below).
  fmt::print(out, "{:<33} {:<10} {:>5} {:>6} {:>7} {:>10} {:>10} {:>10} {:>6}  {}\n", "contract", "kind", "cases",
             "shapes", "skipped", "p99 err", "worst err", "tolerance", "ratio", "result");
  for (const ContractRow& r : s.rows) {
    const int run = r.run();
    if (run == 0) {
      fmt::print(out, "{:<33} {:<10} {:>5} {:>6} {:>7} {:>10} {:>10} {:>10} {:>6}  {}\n", r.contract, r.kind, run, "-",
                 r.skipped, "-", "-", "-", "-",
                 r.not_applicable > 0 ? fmt::format("not applicable to {}", tolerance::precision_name(s.judged))
                                      : std::string("skipped (not exposed by this implementation)"));
      continue;
    }
    fmt::print(out, "{:<33} {:<10} {:>5} {:>6} {:>7} {:>10.3g} {:>10} {:>10.3g} {:>6}  {}\n", r.contract, r.kind, run,
               r.shapes, r.skipped, r.p99_error, conformance::error_text(r.worst_error), r.tolerance,
               std::isnan(r.worst_ratio) ? "NaN" : fmt::format("{:.3f}", r.worst_ratio),
               r.failed ? fmt::format("FAIL ({} of {})", r.failed, run) : std::string("pass"));
  }
  fmt::print(out, "worst element per contract (the largest error / tolerance ratio):\n");
  for (const ContractRow& r : s.rows)
    if (r.run() > 0)
      fmt::print(out, "  {:<31} {} {}{}: error {}, tolerance {:.3g}\n", r.contract, r.worst_case, r.worst_output,
                 r.worst_position.empty() ? "" : fmt::format("[{}]", fmt::join(r.worst_position, ",")),
                 conformance::error_text(r.worst_error), r.tolerance);
  fmt::print(out, "worst error / limit per precision (the limits of docs/precisions.md; a float32 implementation passes each):\n");
  fmt::print(out, "  {:<33}", "contract");
  for (tolerance::Precision p : tolerance::kPrecisions) fmt::print(out, " {:>8}", tolerance::precision_name(p));
  fmt::print(out, "\n");
  for (const ContractRow& r : s.rows) {
    if (r.run() == 0) continue;
    fmt::print(out, "  {:<33}", r.contract);
    for (tolerance::Precision p : tolerance::kPrecisions) {
      const auto it = r.worst_ratio_by_precision.find(p);
      fmt::print(out, " {:>8}", it == r.worst_ratio_by_precision.end() ? "-"
                                : std::isnan(it->second)               ? "NaN"
                                                                       : fmt::format("{:.3f}", it->second));
    }
    fmt::print(out, "\n");
  }
  fmt::print(out, "shapes covered (size parameters, min-max over the run cases):\n");
  for (const ContractRow& r : s.rows)
    if (r.run() > 0) fmt::print(out, "  {:<31} {}\n", r.contract, ranges_text(r));
  for (const ContractRow& r : s.rows)
    for (const std::string& c : r.failing) fmt::print(out, "  failing case: {}\n", c);
  for (const std::string& e : s.adapter_errors) fmt::print(out, "  implementation error: {}\n", e);
  fmt::print(out, "tolerance: the frozen limit (factor x plain float32 error + floor) of the worst element's output; "
                  "ratio: its error / tolerance\n");
}

void print_properties(const PropertiesSection& s, std::FILE* out) {
  fmt::print(out, "\nproperties: RC_PARAMS seed={} max_success={}, executables from {}\n", s.seed, s.max_success,
             s.tests_dir);
  if (!s.problem.empty()) {
    fmt::print(out, "  FAIL: {}\n", s.problem);
    return;
  }
  fmt::print(out, "{:<30} {:>5} {:>10} {:>7} {:>8} {:>8}  {}\n", "executable", "tests", "properties", "cases", "failed",
             "seconds", "result");
  for (const PropertyExecutable& e : s.executables) {
    int properties = 0, failed = 0;
    for (const PropertyTest& t : e.tests) {
      properties += t.property;
      failed += t.status == "failed";
    }
    fmt::print(out, "{:<30} {:>5} {:>10} {:>7} {:>8} {:>8.1f}  {}{}\n", e.name, e.tests.size(), properties,
               property_cases(e), failed, e.seconds, e.status, e.note.empty() ? "" : " (" + e.note + ")");
    for (const PropertyTest& t : e.tests)
      if (t.status == "failed") fmt::print(out, "  FAILED {}: {}\n", t.name, t.message);
  }
}

void print_environment(const Environment& e, std::FILE* out) {
  fmt::print(out, "\nenvironment:\n");
  fmt::print(out, "  artabpfn      {} (commit {})\n", e.version, e.git_commit);
  // Without a GPU, the reason was printed on verify's first line.
  fmt::print(out, "  GPU           {}{}\n", e.gpu.starts_with("none") ? "none" : e.gpu,
             e.gpu_compute.empty() ? "" : ", compute " + e.gpu_compute);
  fmt::print(out, "  driver        NVIDIA {}, CUDA driver API {}, CUDA runtime {}\n",
             e.nvidia_driver.empty() ? "-" : e.nvidia_driver, e.cuda_driver.empty() ? "-" : e.cuda_driver,
             e.cuda_runtime.empty() ? "-" : e.cuda_runtime);
  fmt::print(out, "  compiler      {}; CUDA: {}\n", e.compiler, e.cuda_compiler);
  fmt::print(out, "  build         {}: {}\n", e.build_type, e.build_flags);
  fmt::print(out, "  fixtures      {}\n", e.fixtures_dir);
  if (!e.fixtures_problem.empty()) fmt::print(out, "    FAIL: {}\n", e.fixtures_problem);
  for (const FixtureChecksum& f : e.fixtures)
    fmt::print(out, "    {} {} {}\n", f.ok() ? "ok      " : "MISMATCH", f.actual.empty() ? "-" : f.actual, f.file);
}

void write_json(const Report& r, const std::filesystem::path& path) {
  json j;
  j["schema"] = kSchema;
  j["schema_version"] = kSchemaVersion;
  j["ok"] = r.ok();
  j["mode"] = r.quick ? "quick" : "full";
  j["seed"] = r.seed;
  j["command"] = r.command;
  j["seconds"] = r.seconds;
  const ConformanceSection& c = r.conformance;
  json rows = json::array();
  for (const ContractRow& row : c.rows) {
    json ranges = json::object();
    for (const auto& [name, range] : row.param_ranges) ranges[name] = {range.first, range.second};
    json ratios = json::object();
    for (const auto& [precision, ratio] : row.worst_ratio_by_precision)
      ratios[std::string(tolerance::precision_name(precision))] = number(ratio);
    rows.push_back({{"contract", row.contract},
                    {"kind", row.kind},
                    {"status", row.status()},
                    {"cases", row.run()},
                    {"passed", row.passed},
                    {"failed", row.failed},
                    {"skipped", row.skipped},
                    {"not_applicable", row.not_applicable},
                    {"shapes", row.shapes},
                    {"param_ranges", ranges},
                    {"max_error", number(row.max_error)},
                    {"p99_error", number(row.p99_error)},
                    {"tolerance", number(row.tolerance)},
                    {"worst_ratio", number(row.worst_ratio)},
                    {"worst_ratio_by_precision", ratios},
                    {"worst_case", row.worst_case},
                    {"worst_output", row.worst_output},
                    {"worst_element", row.worst_position},
                    {"worst_error", number(row.worst_error)},
                    {"failing", row.failing}});
  }
  j["conformance"] = {{"ok", c.ok()},           {"implementation", c.implementation}, {"set", c.set},
                      {"engine_precision", c.engine_precision},
                      {"judged_as", tolerance::precision_name(c.judged)},
                      {"seed", c.seed},         {"mutant", c.mutant},                 {"cases", c.cases()},
                      {"failed", c.failed()},   {"seconds", c.seconds},               {"contracts", rows},
                      {"implementation_errors", c.adapter_errors}};
  const PropertiesSection& p = r.properties;
  json executables = json::array();
  for (const PropertyExecutable& e : p.executables) {
    json tests = json::array();
    for (const PropertyTest& t : e.tests)
      tests.push_back({{"name", t.name}, {"status", t.status}, {"cases", t.cases}, {"property", t.property},
                       {"message", t.message}});
    executables.push_back({{"name", e.name}, {"path", e.path}, {"gpu", e.gpu}, {"status", e.status},
                           {"note", e.note}, {"exit_code", e.exit_code}, {"seconds", e.seconds},
                           {"cases", property_cases(e)}, {"tests", tests}});
  }
  j["properties"] = {{"ok", p.ok()},   {"tests_dir", p.tests_dir},     {"seed", p.seed},
                     {"max_success", p.max_success}, {"problem", p.problem}, {"executables", executables}};
  const Environment& e = r.environment;
  json fixtures = json::array();
  for (const FixtureChecksum& f : e.fixtures)
    fixtures.push_back({{"file", f.file}, {"expected", f.expected}, {"actual", f.actual}, {"ok", f.ok()}});
  j["environment"] = {{"ok", e.ok()},
                      {"version", e.version},
                      {"git_commit", e.git_commit},
                      {"gpu", e.gpu},
                      {"gpu_compute", e.gpu_compute},
                      {"nvidia_driver", e.nvidia_driver},
                      {"cuda_driver", e.cuda_driver},
                      {"cuda_runtime", e.cuda_runtime},
                      {"compiler", e.compiler},
                      {"cuda_compiler", e.cuda_compiler},
                      {"build_type", e.build_type},
                      {"build_flags", e.build_flags},
                      {"fixtures_dir", e.fixtures_dir},
                      {"fixtures_problem", e.fixtures_problem},
                      {"fixtures", fixtures}};
  std::ofstream out(path, std::ios::binary);
  out << j.dump(1) << "\n";
  if (!out) throw InputError("cannot write " + path.string());
}

void write_junit(const Report& r, const std::filesystem::path& path) {
  struct Case {
    std::string classname, name, failure, skipped;
    double seconds = 0;
  };
  std::vector<std::pair<std::string, std::vector<Case>>> suites;
  std::vector<Case> conformance;
  for (const ContractRow& row : r.conformance.rows) {
    Case c{"verify.conformance." + (row.kind == "kernel" ? std::string("kernel") : std::string("engine_job")),
           row.contract, {}, {}, 0};
    if (row.failed) {
      c.failure = fmt::format("{} of {} cases fail: ", row.failed, row.run());
      for (const std::string& f : row.failing) c.failure += f + " ";
    } else if (row.passed == 0 && row.not_applicable > 0) {
      c.skipped = fmt::format("not applicable to {}", tolerance::precision_name(r.conformance.judged));
    } else if (row.passed == 0) {
      c.skipped = "not exposed by the " + r.conformance.implementation + " implementation";
    }
    conformance.push_back(c);
  }
  for (const std::string& e : r.conformance.adapter_errors)
    conformance.push_back({"verify.conformance", "implementation_error", e, {}, 0});
  suites.emplace_back("verify.conformance", conformance);
  std::vector<Case> properties;
  if (!r.properties.problem.empty()) properties.push_back({"verify.properties", "executables", r.properties.problem, {}, 0});
  for (const PropertyExecutable& e : r.properties.executables) {
    if (e.tests.empty()) {
      Case c{"verify.properties." + e.name, e.name, {}, {}, e.seconds};
      (e.status == "skipped" ? c.skipped : c.failure) = e.note;
      properties.push_back(c);
      continue;
    }
    for (const PropertyTest& t : e.tests) {
      Case c{"verify.properties." + e.name, t.name, {}, {}, 0};
      if (t.status == "failed") c.failure = t.message.empty() ? "failed" : t.message;
      if (t.status == "skipped") c.skipped = t.message;
      properties.push_back(c);
    }
  }
  suites.emplace_back("verify.properties", properties);
  std::vector<Case> environment;
  if (!r.environment.fixtures_problem.empty())
    environment.push_back({"verify.environment.fixtures", "manifests", r.environment.fixtures_problem, {}, 0});
  for (const FixtureChecksum& f : r.environment.fixtures)
    environment.push_back({"verify.environment.fixtures", f.file,
                           f.ok() ? std::string() : "sha256 " + f.actual + ", expected " + f.expected, {}, 0});
  suites.emplace_back("verify.environment", environment);

  std::size_t tests = 0, failures = 0;
  for (const auto& [name, cases] : suites)
    for (const Case& c : cases) {
      ++tests;
      failures += !c.failure.empty();
    }
  std::ofstream out(path, std::ios::binary);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << fmt::format("<testsuites name=\"artabpfn-verify\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{:.3f}\">\n",
                     tests, failures, r.seconds);
  for (const auto& [name, cases] : suites) {
    std::size_t f = 0, s = 0;
    for (const Case& c : cases) {
      f += !c.failure.empty();
      s += !c.skipped.empty();
    }
    out << fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">\n", name,
                       cases.size(), f, s);
    out << "    <properties>\n";
    out << fmt::format("      <property name=\"schema\" value=\"{}\"/>\n", kSchema);
    out << fmt::format("      <property name=\"schema_version\" value=\"{}\"/>\n", kSchemaVersion);
    out << fmt::format("      <property name=\"mode\" value=\"{}\"/>\n", r.quick ? "quick" : "full");
    out << fmt::format("      <property name=\"seed\" value=\"{}\"/>\n", r.seed);
    out << fmt::format("      <property name=\"git_commit\" value=\"{}\"/>\n", xml_escape(r.environment.git_commit));
    out << fmt::format("      <property name=\"gpu\" value=\"{}\"/>\n", xml_escape(r.environment.gpu));
    out << "    </properties>\n";
    for (const Case& c : cases) {
      out << fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\"", xml_escape(c.classname),
                         xml_escape(c.name), c.seconds);
      if (c.failure.empty() && c.skipped.empty()) {
        out << "/>\n";
        continue;
      }
      out << ">\n";
      if (!c.failure.empty())
        out << fmt::format("      <failure message=\"{}\"/>\n", xml_escape(c.failure));
      else
        out << fmt::format("      <skipped message=\"{}\"/>\n", xml_escape(c.skipped));
      out << "    </testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
  if (!out) throw InputError("cannot write " + path.string());
}

}  // namespace artabpfn::verify
