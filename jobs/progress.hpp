#pragma once
// Progress of long jobs on stderr, only when stderr is a terminal (CI logs, pipes and tests see
// nothing): one line rewritten in place ("\r"), finished with a newline.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace artabpfn::jobs {

// Called with the units done so far and the total (steps of a job).
using ProgressFn = std::function<void(std::int64_t done, std::int64_t total)>;

// "sample: 3/8 tasks (37%), 12.0 s, about 20 s left" (no estimate before the first unit).
std::string format_progress(const std::string& job, const std::string& unit, std::int64_t done, std::int64_t total,
                            double seconds);

// A ProgressFn writing format_progress lines to stderr when stderr is a terminal; empty otherwise.
ProgressFn terminal_progress(const std::string& job, const std::string& unit);

// Progress over units that may each take minutes (a task on the multiprecision reference): the
// line is redrawn after each unit and, while one runs, every second with the time spent in it
// ("...; task 2 running for 41 s"), so that a long unit shows it is alive. Nothing unless stderr is
// a terminal.
class UnitProgress {
 public:
  UnitProgress(std::string job, std::string unit, std::int64_t total);
  // Draws on `terminal` (nothing when null) every `tick`.
  UnitProgress(std::string job, std::string unit, std::int64_t total, std::FILE* terminal,
               std::chrono::milliseconds tick);
  ~UnitProgress();  // ends the line and stops redrawing
  UnitProgress(const UnitProgress&) = delete;
  UnitProgress& operator=(const UnitProgress&) = delete;

  void finished(std::int64_t done);  // units done so far

 private:
  void draw();  // with mutex_ held

  std::string job_, unit_;
  std::int64_t total_ = 0, done_ = 0;
  std::FILE* terminal_ = nullptr;
  std::chrono::steady_clock::time_point start_, unit_start_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread ticker_;  // not started unless stderr is a terminal
};

}  // namespace artabpfn::jobs
