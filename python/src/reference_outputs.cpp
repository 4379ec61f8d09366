#include "reference_outputs.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "artabpfn/error.hpp"
#include "conformance/plain/attention.hpp"
#include "conformance/plain/model_jobs.hpp"

namespace artabpfn::python {

const std::vector<std::string>& attention_contracts() {
  static const std::vector<std::string> names = {"shared_context_attention", "buffer_attention_decode",
                                                 "buffer_attention_teacher_forcing", "fused_attention", "merge_states"};
  return names;
}

const std::vector<std::string>& model_contracts() {
  static const std::vector<std::string> names = {"prefill_kv", "teacher_forcing_density", "forced_ar_density",
                                                 "mixture_parameters"};
  return names;
}

namespace {

bool is_one_of(const std::string& name, const std::vector<std::string>& names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

ReferenceOutputs model_job_outputs(const std::string& contract, const conformance::CaseFile& inputs,
                                   const ModelWeights& weights) {
  namespace plain = conformance::plain;
  using conformance::Tensor;
  const plain::ReferenceJobs<double> jobs(weights);
  const ModelConfig& c = weights.config;
  ReferenceOutputs r;
  if (contract == "mixture_parameters") {
    const Tensor& z = inputs.input("z");
    if (z.is_integer() || z.shape.size() != 2 || z.shape[1] != c.d_model)
      throw InputError(fmt::format("mixture_parameters: 'z' has shape {}, expected [n, D = {}]",
                                   shape_to_string(z.shape), c.d_model));
    plain::MixtureOutputs m = plain::mixture_outputs(plain::mixtures(jobs, z.values, int(z.shape[0])));
    const Shape shape{z.shape[0], c.num_components};
    r.outputs.emplace_back("mean", Tensor::f64(shape, std::move(m.mean)));
    r.outputs.emplace_back("std", Tensor::f64(shape, std::move(m.std)));
    r.outputs.emplace_back("log_weight", Tensor::f64(shape, std::move(m.log_weight)));
    return r;
  }
  const bool prefill = contract == "prefill_kv";
  const plain::Tasks tasks = plain::read_tasks(inputs, !prefill);
  const std::int64_t task_count = std::int64_t(tasks.tasks.size());
  if (prefill) {
    auto [keys, values] = plain::prefill_outputs(jobs, tasks);
    const Shape shape{c.n_layers, task_count, tasks.nc_max, c.d_model};
    r.outputs.emplace_back("keys", Tensor::f64(shape, std::move(keys)));
    r.outputs.emplace_back("values", Tensor::f64(shape, std::move(values)));
    return r;
  }
  const auto y = plain::read_value_sets(inputs, tasks);
  const std::int64_t sets = y.empty() ? 0 : y[0].rows();
  r.outputs.emplace_back("logpdf",
                         Tensor::f64({task_count, sets, tasks.nt_max},
                                     plain::density_outputs(jobs, tasks, y, contract == "teacher_forcing_density")));
  return r;
}

}  // namespace

ReferenceOutputs reference_outputs(const std::string& contract, const conformance::CaseFile& inputs,
                                   const ModelWeights* weights) {
  if (is_one_of(contract, model_contracts())) {
    if (!weights) throw InputError(fmt::format("{} is a model job: give the model", contract));
    return model_job_outputs(contract, inputs, *weights);
  }
  const auto& names = attention_contracts();
  if (!is_one_of(contract, names))
    throw InputError(fmt::format("'{}' is not a contract computed here; these are: {}, {}", contract,
                                 fmt::join(names, ", "), fmt::join(model_contracts(), ", ")));
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
