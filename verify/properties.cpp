// Properties part of the verification report: the property and edge-case executables of a build
// tree run with a seed and a case count (RC_PARAMS), their console output parsed per test.
#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <sstream>

#include "artabpfn/error.hpp"
#include "verify/verify.hpp"

namespace artabpfn::verify {
namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// Runs `command` through the shell, stdout and stderr together; returns the exit status.
int run_captured(const std::string& command, std::string& output) {
  std::FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw InputError("cannot start: " + command);
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), int(buffer.size()), pipe)) output += buffer.data();
  const int status = pclose(pipe);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

}  // namespace

bool PropertiesSection::ok() const {
  if (!problem.empty()) return false;
  int run = 0;
  for (const PropertyExecutable& e : executables) {
    if (e.status == "failed" || e.status == "error") return false;
    if (e.status == "passed") ++run;
  }
  return run > 0;
}

std::vector<PropertyTest> parse_test_output(const std::string& text) {
  std::vector<PropertyTest> tests;
  std::istringstream in(text);
  PropertyTest* current = nullptr;
  std::int64_t marks = 0;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (starts_with(line, "[ RUN      ] ")) {
      tests.push_back({line.substr(13), "failed", 0, false, "no result line (crashed?)"});
      current = &tests.back();
      marks = 0;
      continue;
    }
    if (!current) continue;
    const bool ok = starts_with(line, "[       OK ] "), failed = starts_with(line, "[  FAILED  ] "),
               skipped = starts_with(line, "[  SKIPPED ] ");
    if (ok || failed || skipped) {
      current->status = ok ? "passed" : failed ? "failed" : "skipped";
      if (ok) current->message.clear();
      current->property = marks > 0;
      current->cases = marks > 0 ? marks : (ok ? 1 : 0);
      current = nullptr;
      continue;
    }
    // RapidCheck's verbose_progress: a line of marks, '.' per passing case ('x' discarded,
    // '!' failing); gtest's skip and failure messages are kept for the report.
    if (!line.empty() && line.find_first_not_of(".x!") == std::string::npos) {
      marks += std::count(line.begin(), line.end(), '.');
      continue;
    }
    if (starts_with(line, "Using configuration:")) continue;
    if (current->message == "no result line (crashed?)") current->message.clear();
    if (current->message.size() < 400 && !line.empty()) current->message += (current->message.empty() ? "" : " | ") + line;
  }
  return tests;
}

std::vector<std::filesystem::path> find_property_executables(const std::filesystem::path& tests_dir) {
  std::vector<std::filesystem::path> found;
  for (const char* group : {"properties", "edge_cases"}) {
    const std::filesystem::path root = tests_dir / group;
    if (!std::filesystem::is_directory(root)) continue;
    for (const auto& folder : std::filesystem::directory_iterator(root)) {
      if (!folder.is_directory() || folder.path().filename() == "CMakeFiles") continue;
      for (const auto& file : std::filesystem::directory_iterator(folder.path())) {
        const std::string name = file.path().filename().string();
        if (!file.is_regular_file() || name.find('.') != std::string::npos) continue;
        if ((file.status().permissions() & std::filesystem::perms::owner_exec) == std::filesystem::perms::none) continue;
        found.push_back(file.path());
      }
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

PropertiesSection run_properties(const PropertyOptions& options) {
  PropertiesSection section;
  section.tests_dir = options.tests_dir.string();
  section.seed = options.seed;
  section.max_success = options.max_success;
  const std::vector<std::filesystem::path> executables = find_property_executables(options.tests_dir);
  if (executables.empty()) {
    section.problem = fmt::format(
        "no property or edge-case executables under {}/properties or {}/edge_cases (build the tests, or pass "
        "--tests-dir BUILD_DIR, or --skip-properties)",
        options.tests_dir.string(), options.tests_dir.string());
    return section;
  }
  const std::string rc_params = fmt::format("seed={} max_success={} verbose_progress=1", options.seed, options.max_success);
  for (const std::filesystem::path& path : executables) {
    PropertyExecutable e;
    e.name = path.filename().string();
    e.path = path.string();
    e.gpu = starts_with(path.parent_path().filename().string(), "gpu_");
    if (e.gpu && !options.gpu) {
      e.status = "skipped";
      e.note = "not run: " + options.gpu_skip_reason;
      section.executables.push_back(std::move(e));
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    std::string output;
    e.exit_code = run_captured("RC_PARAMS=" + shell_quote(rc_params) + " " + shell_quote(e.path) + " --gtest_color=no", output);
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    e.tests = parse_test_output(output);
    const bool any_failed = std::any_of(e.tests.begin(), e.tests.end(), [](const PropertyTest& t) { return t.status == "failed"; });
    const bool any_passed = std::any_of(e.tests.begin(), e.tests.end(), [](const PropertyTest& t) { return t.status == "passed"; });
    if (e.tests.empty()) {
      e.status = "error";
      const std::string tail = output.size() > 400 ? output.substr(output.size() - 400) : output;
      e.note = fmt::format("exit status {}, no test ran: {}", e.exit_code, tail);
    } else if (any_failed || e.exit_code != 0) {
      e.status = "failed";
      e.note = fmt::format("exit status {}", e.exit_code);
    } else {
      e.status = any_passed ? "passed" : "skipped";
      if (!any_passed && !e.tests.empty()) e.note = e.tests.front().message;
    }
    section.executables.push_back(std::move(e));
  }
  return section;
}

}  // namespace artabpfn::verify
