#pragma once
// How the CPU backends (the reference, the engine's precisions on the CPU) run a job: task by task
// (the same results as one call: a task's sampling stream uses its position), reporting progress
// after each task, and turning the per-task result matrices into the result table.
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "jobs/progress.hpp"
#include "jobs/table.hpp"
#include "reference/reference.hpp"

namespace artabpfn::jobs {

template <class T>
Table to_table(const std::vector<reference::Matrix<T>>& per_task) {
  Table out;
  for (const auto& m : per_task) {
    std::vector<std::vector<double>> rows;
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
      std::vector<double> row;
      for (Eigen::Index c = 0; c < m.cols(); ++c) row.push_back(static_cast<double>(m(r, c)));
      rows.push_back(std::move(row));
    }
    out.push_back(std::move(rows));
  }
  return out;
}

// After each task: the caller's progress, or else a UnitProgress line on a terminal.
class TaskProgress {
 public:
  TaskProgress(const char* job, std::int64_t tasks, const ProgressFn& progress) : progress_(progress), tasks_(tasks) {
    if (!progress_) terminal_.emplace(job, "tasks", tasks);
  }
  void finished(std::int64_t done) {
    if (progress_) progress_(done, tasks_);
    else terminal_->finished(done);
  }

 private:
  const ProgressFn& progress_;
  std::int64_t tasks_;
  std::optional<UnitProgress> terminal_;
};

// Runs one(i) for each task i (its result matrix) in order, reporting progress after each, and
// gathers the result table.
template <class One>
Table each_task(const char* job, std::size_t tasks, const ProgressFn& on_progress, One&& one) {
  TaskProgress progress(job, std::int64_t(tasks), on_progress);
  std::vector<decltype(one(std::size_t{0}))> out;
  for (std::size_t i = 0; i < tasks; ++i) {
    out.push_back(one(i));
    progress.finished(std::int64_t(i + 1));
  }
  return to_table(out);
}

// The sampling options of the task at position i of a call: the call's seed, the position as
// the random stream's task id.
inline reference::SamplingOptions task_sampling(std::uint64_t seed, std::size_t i) {
  reference::SamplingOptions options;
  options.seed = seed;
  options.task_id = static_cast<std::uint32_t>(i);
  return options;
}

}  // namespace artabpfn::jobs
