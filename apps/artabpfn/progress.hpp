#pragma once
// Progress of long jobs on stderr, only when stderr is a terminal (CI logs, pipes and tests see
// nothing): one line rewritten in place ("\r"), finished with a newline.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace artabpfn::cli {

// Called with the units done so far and the total (tasks of a job).
using ProgressFn = std::function<void(std::int64_t done, std::int64_t total)>;

// "sample: 3/8 tasks (37%), 12.0 s, about 20 s left" (no estimate before the first unit).
std::string format_progress(const std::string& job, const std::string& unit, std::int64_t done, std::int64_t total,
                            double seconds);

// A ProgressFn writing format_progress lines to stderr when stderr is a terminal; empty otherwise.
ProgressFn terminal_progress(const std::string& job, const std::string& unit);

}  // namespace artabpfn::cli
