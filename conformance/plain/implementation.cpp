#include "conformance/plain/implementation.hpp"

#include <algorithm>
#include <stdexcept>

#include "artabpfn/error.hpp"
#include "conformance/plain/attention.hpp"
#include "conformance/plain/model_jobs.hpp"
#include "conformance/plain/tf32_jobs.hpp"

namespace artabpfn::conformance::plain {
namespace {

using tolerance::Precision;

Tensor values_tensor(const Shape& shape, std::vector<double> values) { return Tensor::f32(shape, std::move(values)); }

ResultFile attention_result(const Shape& out_shape, const Shape& lse_shape, AttentionResult r) {
  return {{"out", values_tensor(out_shape, std::move(r.out))}, {"lse", values_tensor(lse_shape, std::move(r.lse))}};
}

// Calls f(jobs) with the arithmetic's jobs object: the reference in float, or the TF32 one.
template <class F>
ResultFile with_jobs(Arithmetic arithmetic, const CaseInput& in, F&& f) {
  if (!in.weights) throw InputError(in.spec.name + ": a model job without a model");
  if (arithmetic == Arithmetic::kFloat32) return f(ReferenceJobs<float>(*in.weights));
  return f(Tf32Jobs(*in.weights, arithmetic));
}

ContractFunction attention_function(Arithmetic arithmetic) {
  return [arithmetic](const CaseInput& in) {
    const Shape& q = in.input("q").shape;
    return attention_result(q, {q[0], q[1], q[2]},
                            plain_attention(arithmetic, AttentionProblem::read(in.spec.contract, in.file)));
  };
}

ContractFunction merge_function(Arithmetic arithmetic) {
  return [arithmetic](const CaseInput& in) {
    const Shape& o = in.input("out1").shape;
    return attention_result(o, {o[0]}, plain_merge(arithmetic, MergeProblem::read(in.file)));
  };
}

ContractFunction prefill_function(Arithmetic arithmetic) {
  return [arithmetic](const CaseInput& in) {
    return with_jobs(arithmetic, in, [&](const auto& jobs) {
      const Tasks t = read_tasks(in.file, false);
      const ModelConfig& c = jobs.params().config;
      const Shape shape{c.n_layers, std::int64_t(t.tasks.size()), t.nc_max, c.d_model};
      auto [keys, values] = prefill_outputs(jobs, t);
      return ResultFile{{"keys", values_tensor(shape, std::move(keys))}, {"values", values_tensor(shape, std::move(values))}};
    });
  };
}

ContractFunction density_function(Arithmetic arithmetic) {
  return [arithmetic](const CaseInput& in) {
    return with_jobs(arithmetic, in, [&](const auto& jobs) {
      const Tasks t = read_tasks(in.file, true);
      const bool teacher_forcing = in.spec.contract == "teacher_forcing_density";
      return ResultFile{{"logpdf", values_tensor(in.input("y_target").shape,
                                                 density_outputs(jobs, t, read_value_sets(in.file, t), teacher_forcing))}};
    });
  };
}

ContractFunction mixture_function(Arithmetic arithmetic) {
  return [arithmetic](const CaseInput& in) {
    return with_jobs(arithmetic, in, [&](const auto& jobs) {
      const Shape& z = in.input("z").shape;
      MixtureOutputs m = mixture_outputs(mixtures(jobs, in.f64("z"), int(z[0])));
      const Shape shape{z[0], jobs.params().config.num_components};
      return ResultFile{{"mean", values_tensor(shape, std::move(m.mean))},
                        {"std", values_tensor(shape, std::move(m.std))},
                        {"log_weight", values_tensor(shape, std::move(m.log_weight))}};
    });
  };
}

ContractFunction append_function(Arithmetic arithmetic) {
  return [arithmetic](const CaseInput& in) {
    return with_jobs(arithmetic, in, [&](const auto& jobs) {
      const StepInputs step_inputs = read_step_inputs(in.file);
      const int step = int(in.scalar("step"));
      const int samples = int(step_inputs.y_buffer.size());
      const ModelConfig& c = jobs.params().config;
      const Shape shape{c.n_layers, samples, step, c.d_model};
      auto [keys, values] = append_outputs(jobs, read_step_task(in.file), samples, step, step_inputs);
      return ResultFile{{"buffer_keys_after", values_tensor(shape, std::move(keys))},
                        {"buffer_values_after", values_tensor(shape, std::move(values))}};
    });
  };
}

// The sampler and joint sampling serve float32 only (docs/precisions.md says why).
ResultFile sampler(const CaseInput& in) {
  const ReferenceJobs<float> jobs(*in.weights);
  const Shape& z = in.input("z").shape;
  const auto m = mixtures(jobs, in.f64("z"), int(z[0]));
  const std::vector<random_stream::Draw> draws = read_draws(in.file);
  std::vector<double> y;
  std::vector<std::int64_t> component;
  for (std::size_t i = 0; i < draws.size(); ++i) {
    component.push_back(std::int64_t(reference::pick_component(m[i], draws[i].component_uniform)));
    y.push_back(double(reference::sample_mixture(m[i], draws[i])));
  }
  return {{"y", values_tensor({z[0]}, std::move(y))}, {"component", Tensor::i64({z[0]}, std::move(component))}};
}

ResultFile sample_sequence(const CaseInput& in) {
  const ReferenceJobs<float> jobs(*in.weights);
  const Tasks t = read_tasks(in.file, true);
  const int samples = int(in.scalar("samples"));
  const std::size_t T = t.tasks.size(), S = std::size_t(samples), NT = std::size_t(t.nt_max);
  std::vector<double> out(T * S * NT, kNotCompared);
  for (std::size_t i = 0; i < T; ++i) {
    reference::SamplingOptions options;
    options.seed = std::uint64_t(in.scalar("seed"));
    options.task_id = std::uint32_t(i);
    const reference::Matrix<float> f = reference::sample_sequence<float>(jobs.params(), t.tasks[i], samples, options);
    for (Eigen::Index s = 0; s < f.rows(); ++s)
      for (Eigen::Index j = 0; j < f.cols(); ++j) out[(i * S + std::size_t(s)) * NT + std::size_t(j)] = double(f(s, j));
  }
  return {{"samples", values_tensor({std::int64_t(T), samples, t.nt_max}, std::move(out))}};
}

ContractFunction function_for(const std::string& name, Arithmetic arithmetic) {
  if (!contract(name).uses_model) return name == "merge_states" ? merge_function(arithmetic) : attention_function(arithmetic);
  if (name == "prefill_kv") return prefill_function(arithmetic);
  if (name == "teacher_forcing_density" || name == "forced_ar_density") return density_function(arithmetic);
  if (name == "mixture_parameters") return mixture_function(arithmetic);
  if (name == "buffer_kv_append") return append_function(arithmetic);
  if (arithmetic == Arithmetic::kFloat32 && name == "sampler") return sampler;
  if (arithmetic == Arithmetic::kFloat32 && name == "sample_sequence") return sample_sequence;
  throw std::logic_error("no plain " + std::string(arithmetic_name(arithmetic)) + " implementation of " + name);
}

}  // namespace

Implementation plain_implementation(Arithmetic arithmetic) {
  Implementation impl;
  for (const ContractInfo& c : contracts())
    if (std::find(c.precisions.begin(), c.precisions.end(), precision_of(arithmetic)) != c.precisions.end())
      impl[c.name] = function_for(c.name, arithmetic);
  return impl;
}

}  // namespace artabpfn::conformance::plain
