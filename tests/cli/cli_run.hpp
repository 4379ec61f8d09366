#pragma once
// Runs the artabpfn command line (ARTABPFN_CLI, else the build's binary) with arguments through
// the shell and returns its exit status (-1 when a signal ended it) and its stdout and stderr
// together; reads the files it writes.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace artabpfn::test_support {

// The whole of a text file ("" if it cannot be read).
inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct CommandResult {
  int status;
  std::string output;  // stdout and stderr
};

// Runs a shell command line and captures what it writes to the pipe.
inline CommandResult run_shell(const std::string& command) {
  std::FILE* pipe = popen(command.c_str(), "r");
  CommandResult r{-1, {}};
  if (!pipe) return r;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), int(buffer.size()), pipe)) r.output += buffer.data();
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string cli_path() {
  const char* env = std::getenv("ARTABPFN_CLI");
  return env && *env ? env : ARTABPFN_CLI_PATH;
}

// `prefix` goes before the program (environment assignments, e.g. "ARTABPFN_MUTANT=x").
inline CommandResult run_cli(const std::string& arguments, const std::string& prefix = "") {
  return run_shell(prefix + (prefix.empty() ? "" : " ") + cli_path() + " " + arguments + " 2>&1");
}

// The same with standard output sent to `stdout_target` (e.g. /dev/full); the result holds stderr.
inline CommandResult run_cli_with_stdout(const std::string& arguments, const std::string& stdout_target) {
  return run_shell(cli_path() + " " + arguments + " 2>&1 >" + stdout_target);
}

#ifdef ARTABPFN_BUILD_DIR
// The build tree whose test executables `verify` runs: ARTABPFN_BUILD_DIR in the environment (a
// tree carried to another machine), else the one this test was built in.
inline std::string build_dir() {
  const char* env = std::getenv("ARTABPFN_BUILD_DIR");
  return env && *env ? env : ARTABPFN_BUILD_DIR;
}

// A tests tree holding only the CPU property and edge-case executables of this build, so the
// run does not depend on whether this build has GPU executables.
inline std::filesystem::path cpu_tests_tree(const std::filesystem::path& root) {
  for (const char* relative : {"properties/reference/reference_properties", "edge_cases/reference/reference_edge_cases"}) {
    const std::filesystem::path target = std::filesystem::path(build_dir()) / relative;
    std::filesystem::create_directories((root / relative).parent_path());
    std::filesystem::create_symlink(target, root / relative);
  }
  return root;
}
#endif

}  // namespace artabpfn::test_support
