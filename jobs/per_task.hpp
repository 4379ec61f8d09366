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

}  // namespace artabpfn::jobs
