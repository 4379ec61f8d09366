#pragma once
// One `density` or `sample` job on tensors already in memory: what the command line and the
// Python module both run after they have read their arguments, so that both refuse the same bad
// input with the same message and compute the same bits.
//
// Order: the target rows, the result's memory, the backend (a cuda job falls back to the double
// reference where no GPU is usable, with a notice), inputs beyond float32's range for the engine,
// the run, and a last check that no result is NaN. The combination is checked before
// (check_job_settings), so that callers can refuse it before reading any file.
#include <cstdint>
#include <string>

#include "artabpfn/model_weights.hpp"
#include "artabpfn/notices.hpp"
#include "artabpfn/task_tensors.hpp"
#include "jobs/progress.hpp"
#include "jobs/support_table.hpp"
#include "jobs/table.hpp"

namespace artabpfn::jobs {

struct JobRequest {
  Combination asked;         // from check_combination (its job is "density" or "sample")
  std::int64_t samples = 0;  // sample only: check_samples()
  std::uint64_t seed = 0;    // sample only
  std::string source;        // names the inputs in messages (a file, or "the arguments")
  ProgressFn progress;       // empty: a progress line on stderr when it is a terminal
  NoticeSink notices;        // the no-GPU notice; empty: stderr
};

struct JobResult {
  Table table;
  Combination ran;  // after the CPU fallback
};

// check_combination, and that this build has the reference backend asked for; InputError otherwise.
Combination check_job_settings(const std::string& job, const std::string& backend, const std::string& attention,
                               const std::string& precision);

// Throws InputError with the message the command line prints for bad input.
JobResult run_job(const JobRequest& request, const ModelWeights& weights, const TaskTensors& tasks);

// The largest sample count: the random stream's sample counter is 32 bits wide.
inline constexpr std::int64_t kMaxSamples = 0xFFFFFFFF;

}  // namespace artabpfn::jobs
