// artabpfn._core's reference functions: the double reference (reference/) on NumPy arrays, for
// people who test their own implementation. The attention contracts take the conformance
// vectors' layout (reference_outputs.hpp); the model jobs take one task in the inputs file's
// single-task layout (x_context [Nc, F], y_context [Nc], x_target [Nt, F], y [R, Nt]).
#include "reference/reference.hpp"

#include <fmt/format.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <map>
#include <optional>

#include "artabpfn/error.hpp"
#include "artabpfn/random_stream.hpp"
#include "artabpfn/task_tensors.hpp"
#include "conformance/plain/model_jobs.hpp"
#include "convert.hpp"
#include "model.hpp"
#include "module.hpp"
#include "reference/task_batch.hpp"
#include "reference_outputs.hpp"

namespace artabpfn::python {
namespace {

using reference::Matrix;

nb::dict to_dict(const ReferenceOutputs& reference) {
  nb::dict d;
  for (const auto& [name, tensor] : reference.outputs) d[name.c_str()] = numpy_array(tensor);
  return d;
}

NumpyDoubles matrix_array(const Matrix<double>& m) {
  std::vector<double> values;
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) values.push_back(m(r, c));
  return numpy_array(std::move(values), {m.rows(), m.cols()});
}

// One task (single-task layout), checked as an inputs file is.
TaskTensors one_task(const DoubleArray& x_context, const DoubleArray& y_context, const DoubleArray& x_target,
                     const std::optional<DoubleArray>& y) {
  TaskTensors t;
  t.x_context = host_tensor(x_context);
  t.y_context = host_tensor(y_context);
  t.x_target = host_tensor(x_target);
  if (y) t.y_target = host_tensor(*y);
  t = validate_task_tensors(std::move(t), "artabpfn.reference");
  if (t.task_count() != 1)
    throw InputError("artabpfn.reference: one task per call: x_target [Nt, F], x_context [Nc, F], y_context [Nc]");
  return t;
}

nb::tuple prefill_kv(const Model& m, const DoubleArray& x_context, const DoubleArray& y_context) {
  const ModelConfig& c = m.weights.config;
  TaskTensors t;  // the context, and no target rows (prefill reads the context only)
  t.x_context = host_tensor(x_context);
  t.y_context = host_tensor(y_context);
  t.x_target.shape = {0, x_context.ndim() == 2 ? std::int64_t(x_context.shape(1)) : 1};
  t = validate_task_tensors(std::move(t), "artabpfn.reference");
  const auto p = reference::ModelParams<double>::from_weights(m.weights);
  const reference::ContextCache<double> cache = reference::prefill<double>(p, reference::split_tasks(t)[0]);
  const std::int64_t nc = t.context_len[0];
  std::vector<double> keys, values;
  for (int l = 0; l < c.n_layers; ++l)
    for (std::int64_t r = 0; r < nc; ++r)
      for (int d = 0; d < c.d_model; ++d) {
        keys.push_back(cache.keys[std::size_t(l)](r, d));
        values.push_back(cache.values[std::size_t(l)](r, d));
      }
  const Shape shape{c.n_layers, nc, c.d_model};
  return nb::make_tuple(numpy_array(std::move(keys), shape), numpy_array(std::move(values), shape));
}

NumpyDoubles density(const Model& m, const DoubleArray& x_context, const DoubleArray& y_context,
                     const DoubleArray& x_target, const DoubleArray& y, bool teacher_forcing) {
  const TaskTensors t = one_task(x_context, y_context, x_target, y);
  const auto p = reference::ModelParams<double>::from_weights(m.weights);
  const reference::TaskInputs task = reference::split_tasks(t)[0];
  const reference::InputMatrix values = reference::split_target_values(t)[0];
  if (!teacher_forcing) return matrix_array(reference::forced_ar_logpdf<double>(p, task, values));
  return matrix_array(reference::evaluate_joint_density<double>(p, {task}, {values}).front());
}

std::vector<reference::Mixture<double>> mixtures(const Model& m, const DoubleArray& z) {
  const int d_model = m.weights.config.d_model;
  if (z.ndim() != 2 || z.shape(1) != std::size_t(d_model))
    throw InputError(fmt::format("artabpfn.reference: 'z' has shape {}, expected [n, D = {}]",
                                 shape_to_string(shape_of(z)), d_model));
  const auto p = reference::ModelParams<double>::from_weights(m.weights);
  Matrix<double> rows(Eigen::Index(z.shape(0)), d_model);
  for (Eigen::Index i = 0; i < rows.size(); ++i) rows.data()[i] = z.data()[i];  // both row-major
  return reference::mixture_head<double>(p, rows);
}

nb::tuple mixture_parameters(const Model& m, const DoubleArray& z) {
  const auto mix = mixtures(m, z);
  const std::int64_t n = std::int64_t(mix.size()), k = m.weights.config.num_components;
  conformance::plain::MixtureOutputs out = conformance::plain::mixture_outputs(mix);  // the contract's layout
  return nb::make_tuple(numpy_array(std::move(out.mean), {n, k}), numpy_array(std::move(out.std), {n, k}),
                        numpy_array(std::move(out.log_weight), {n, k}));
}

// y_i = mean_k + std_k normal_i with k the component the uniform picks (docs/model.md, "The
// random-stream contract").
NumpyDoubles sampler(const Model& m, const DoubleArray& z, const DoubleArray& uniform, const DoubleArray& normal) {
  const auto mix = mixtures(m, z);
  if (uniform.size() != mix.size() || normal.size() != mix.size())
    throw InputError(
        fmt::format("artabpfn.reference: 'uniform' and 'normal' need one value per row of z ({}), not {} "
                    "and {}",
                    mix.size(), uniform.size(), normal.size()));
  std::vector<double> y;
  for (std::size_t i = 0; i < mix.size(); ++i) {
    if (!(uniform.data()[i] > 0.0 && uniform.data()[i] < 1.0))
      throw InputError(fmt::format("artabpfn.reference: uniform[{}] = {} is not in (0, 1)", i, uniform.data()[i]));
    y.push_back(reference::sample_mixture(mix[i], random_stream::Draw{uniform.data()[i], normal.data()[i]}));
  }
  return numpy_array(std::move(y), {std::int64_t(y.size())});
}

NumpyDoubles sample_sequence(const Model& m, const DoubleArray& x_context, const DoubleArray& y_context,
                             const DoubleArray& x_target, std::int64_t samples, std::uint64_t seed,
                             std::uint32_t task_id) {
  if (samples < 1) throw InputError(fmt::format("artabpfn.reference: samples must be >= 1, not {}", samples));
  const TaskTensors t = one_task(x_context, y_context, x_target, std::nullopt);
  const auto p = reference::ModelParams<double>::from_weights(m.weights);
  reference::SamplingOptions options;
  options.seed = seed;
  options.task_id = task_id;
  return matrix_array(reference::sample_sequence<double>(p, reference::split_tasks(t)[0], samples, options));
}

}  // namespace

void add_reference(nb::module_& m) {
  m.def("reference_attention_contracts", &attention_contracts);
  m.def(
      "reference_contract",
      [](const std::string& contract, const std::map<std::string, DoubleArray>& values,
         const std::map<std::string, IntArray>& integers, const Model* model) {
        return to_dict(reference_outputs(contract, case_inputs(values, integers), model ? &model->weights : nullptr));
      },
      nb::arg("contract"), nb::arg("values"), nb::arg("integers"), nb::arg("model").none());
  m.def("reference_model_contracts", &model_contracts);
  m.def("reference_prefill_kv", &prefill_kv);
  m.def("reference_density", &density);
  m.def("reference_mixture_parameters", &mixture_parameters);
  m.def("reference_sampler", &sampler);
  m.def("reference_sample_sequence", &sample_sequence);
}

}  // namespace artabpfn::python
