#include "reference/task.hpp"

#include <fmt/format.h>

#include "artabpfn/error.hpp"

namespace artabpfn::reference {

void TaskInputs::validate(const std::string& where) const {
  if (x_target.cols() == 0) throw InputError(fmt::format("{}: feature count is zero", where));
  if (x_context.rows() > 0 && x_context.cols() != x_target.cols())
    throw InputError(fmt::format("{}: x_context has {} features but x_target has {}", where, x_context.cols(),
                                 x_target.cols()));
  if (y_context.size() != x_context.rows())
    throw InputError(fmt::format("{}: y_context has {} values for {} context rows", where, y_context.size(),
                                 x_context.rows()));
  if (!x_context.allFinite()) throw InputError(fmt::format("{}: x_context holds NaN or Inf", where));
  if (!y_context.allFinite()) throw InputError(fmt::format("{}: y_context holds NaN or Inf", where));
  if (!x_target.allFinite()) throw InputError(fmt::format("{}: x_target holds NaN or Inf", where));
}

void validate_target_values(const TaskInputs& task, const Eigen::VectorXd& y, const std::string& where) {
  if (y.size() != task.target_count())
    throw InputError(fmt::format("{}: y_target has {} values for {} targets", where, y.size(), task.target_count()));
  if (!y.allFinite()) throw InputError(fmt::format("{}: y_target holds NaN or Inf", where));
}

}  // namespace artabpfn::reference
