#pragma once
// One task's inputs as the user gives them (double): a context set and target rows.
#include <Eigen/Dense>

#include <string>

namespace artabpfn::reference {

using InputMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct TaskInputs {
  InputMatrix x_context;     // [Nc, C], Nc may be 0
  Eigen::VectorXd y_context;  // [Nc]
  InputMatrix x_target;      // [Nt, C], C >= 1

  Eigen::Index context_size() const { return x_context.rows(); }
  Eigen::Index target_count() const { return x_target.rows(); }
  // Throws InputError (prefixed by `where`) for C = 0, mismatched sizes or non-finite values.
  void validate(const std::string& where) const;
};

// Throws InputError when y does not have one finite value per target.
void validate_target_values(const TaskInputs& task, const Eigen::VectorXd& y, const std::string& where);

}  // namespace artabpfn::reference
