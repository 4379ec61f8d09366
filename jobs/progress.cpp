#include "jobs/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace artabpfn::jobs {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void print_line(std::FILE* terminal, const std::string& line, bool last) {
  fmt::print(terminal, "\r{}\x1b[K{}", line, last ? "\n" : "");
  std::fflush(terminal);
}

}  // namespace

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
    print_line(stderr, format_progress(job, unit, done, total, seconds_since(*start)), done >= total);
  };
}

UnitProgress::UnitProgress(std::string job, std::string unit, std::int64_t total)
    : UnitProgress(std::move(job), std::move(unit), total, isatty(STDERR_FILENO) ? stderr : nullptr,
                   std::chrono::seconds(1)) {}

UnitProgress::UnitProgress(std::string job, std::string unit, std::int64_t total, std::FILE* terminal,
                           std::chrono::milliseconds tick)
    : job_(std::move(job)), unit_(std::move(unit)), total_(total), terminal_(terminal),
      start_(std::chrono::steady_clock::now()), unit_start_(start_) {
  if (!terminal_ || total_ <= 0) return;
  ticker_ = std::thread([this, tick] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, tick, [this] { return stop_; })) draw();
  });
}

UnitProgress::~UnitProgress() {
  if (!ticker_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  ticker_.join();
  if (done_ < total_) std::fputc('\n', terminal_);  // an unfinished line (an error stopped the job)
}

void UnitProgress::finished(std::int64_t done) {
  if (!ticker_.joinable()) return;
  std::lock_guard lock(mutex_);
  done_ = done;
  unit_start_ = std::chrono::steady_clock::now();
  draw();
}

void UnitProgress::draw() {
  std::string line = format_progress(job_, unit_, done_, total_, seconds_since(start_));
  const std::string one = unit_.ends_with('s') ? unit_.substr(0, unit_.size() - 1) : unit_;
  if (done_ < total_) line += fmt::format("; {} {} running for {:.0f} s", one, done_ + 1, seconds_since(unit_start_));
  print_line(terminal_, line, done_ >= total_);
}

}  // namespace artabpfn::jobs
