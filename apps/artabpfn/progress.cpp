#include "progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace artabpfn::cli {

std::string format_progress(const std::string& job, const std::string& unit, std::int64_t done, std::int64_t total,
                            double seconds) {
  const int percent = total > 0 ? int(100 * done / total) : 100;
  std::string line = fmt::format("{}: {}/{} {} ({}%), {:.1f} s", job, done, total, unit, percent, seconds);
  if (done > 0 && done < total) line += fmt::format(", about {:.0f} s left", seconds / double(done) * double(total - done));
  return line;
}

ProgressFn terminal_progress(const std::string& job, const std::string& unit) {
  if (!isatty(STDERR_FILENO)) return {};
  const auto start = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  return [job, unit, start](std::int64_t done, std::int64_t total) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - *start).count();
    fmt::print(stderr, "\r{}\x1b[K{}", format_progress(job, unit, done, total, seconds), done >= total ? "\n" : "");
    std::fflush(stderr);
  };
}

}  // namespace artabpfn::cli
