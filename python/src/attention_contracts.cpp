#include "attention_contracts.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "artabpfn/error.hpp"
#include "conformance/plain/attention.hpp"

namespace artabpfn::python {

const std::vector<std::string>& attention_contracts() {
  static const std::vector<std::string> names = {"shared_context_attention", "buffer_attention_decode",
                                                 "buffer_attention_teacher_forcing", "fused_attention", "merge_states"};
  return names;
}

ReferenceOutputs reference_outputs(const std::string& contract, const conformance::CaseFile& inputs) {
  const auto& names = attention_contracts();
  if (std::find(names.begin(), names.end(), contract) == names.end())
    throw InputError(fmt::format("'{}' is not an attention contract; these are: {}", contract, fmt::join(names, ", ")));
  ReferenceOutputs r;
  if (contract == "merge_states") {
    const auto problem = conformance::plain::MergeProblem::read(inputs);
    auto result = conformance::plain::merge_contract<double>(problem);
    r.outputs.emplace_back("out", conformance::Tensor::f64({problem.rows, problem.head_dim}, std::move(result.out)));
    r.outputs.emplace_back("lse", conformance::Tensor::f64({problem.rows}, std::move(result.lse)));
    return r;
  }
  const auto problem = conformance::plain::AttentionProblem::read(contract, inputs);
  auto result = conformance::plain::attention_contract<double>(
      problem, [&r](const auto& q, const auto& k, const auto& v, const auto& visible) {
        const reference::Matrix<double> scores = q * k.transpose() / std::sqrt(double(q.cols()));
        for (Eigen::Index i = 0; i < scores.rows(); ++i)
          for (Eigen::Index j = 0; j < scores.cols(); ++j)
            if (visible(i, j)) r.largest_score = std::max(r.largest_score, std::abs(scores(i, j)));
        return reference::attend<double>(q, k, v, visible);
      });
  const Shape out{problem.batch, problem.heads, problem.queries, problem.head_dim};
  r.outputs.emplace_back("out", conformance::Tensor::f64(out, std::move(result.out)));
  r.outputs.emplace_back("lse", conformance::Tensor::f64({out[0], out[1], out[2]}, std::move(result.lse)));
  return r;
}

}  // namespace artabpfn::python
