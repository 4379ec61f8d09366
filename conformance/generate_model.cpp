// Model-job cases: inputs and their reference outputs through the reference model
// (reference/reference.hpp, by the job outputs of conformance/plain/model_jobs.hpp), in double
// (expected) and, for cases marked small, the 50-digit type (through the jobs the reference
// library already instantiates; nothing multiprecision is instantiated here). The float
// reference decides only which draws are compared (sampler, sample_sequence).
#include <algorithm>
#include <limits>
#include <stdexcept>

#include "conformance/generators.hpp"
#include "conformance/plain/model_jobs.hpp"

namespace artabpfn::conformance::detail {
namespace {

using plain::ReferenceJobs;
using plain::StepInputs;
using plain::Tasks;
using reference::ContextCache;
using reference::InputMatrix;
using reference::Matrix;
using reference::TaskInputs;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Shape dims(std::initializer_list<std::int64_t> d) { return Shape(d); }

// T tasks with the given context and target counts, values N(0, 1) rounded to float.
Tasks draw_tasks(const ModelJobCase& c, Rng& rng) {
  Tasks t;
  t.features = c.features;
  t.nc_max = c.context_len.empty() ? 0 : *std::max_element(c.context_len.begin(), c.context_len.end());
  t.nt_max = c.target_len.empty() ? 0 : *std::max_element(c.target_len.begin(), c.target_len.end());
  for (std::size_t i = 0; i < c.context_len.size(); ++i) {
    TaskInputs task;
    const int nc = c.context_len[i], nt = c.target_len[i];
    task.x_context = InputMatrix(nc, c.features);
    task.y_context = Eigen::VectorXd(nc);
    task.x_target = InputMatrix(nt, c.features);
    for (int r = 0; r < nc; ++r) {
      for (int f = 0; f < c.features; ++f) task.x_context(r, f) = rng.normal_float();
      task.y_context(r) = rng.normal_float();
    }
    for (int r = 0; r < nt; ++r)
      for (int f = 0; f < c.features; ++f) task.x_target(r, f) = rng.normal_float();
    t.tasks.push_back(std::move(task));
  }
  return t;
}

// The padded task layout of an inputs file (include/artabpfn/task_tensors.hpp).
void add_task_inputs(const Tasks& t, bool with_targets, Generated& g) {
  const std::int64_t T = std::int64_t(t.tasks.size()), F = t.features;
  std::vector<double> xc(static_cast<std::size_t>(T * t.nc_max * F), 0.0), yc(static_cast<std::size_t>(T * t.nc_max), 0.0);
  std::vector<double> xt(static_cast<std::size_t>(T * t.nt_max * F), 0.0);
  std::vector<std::int64_t> cl, tl;
  for (std::int64_t i = 0; i < T; ++i) {
    const TaskInputs& task = t.tasks[std::size_t(i)];
    cl.push_back(task.context_size());
    tl.push_back(task.target_count());
    for (Eigen::Index r = 0; r < task.context_size(); ++r) {
      yc[std::size_t(i * t.nc_max + r)] = task.y_context(r);
      for (Eigen::Index f = 0; f < F; ++f) xc[std::size_t((i * t.nc_max + r) * F + f)] = task.x_context(r, f);
    }
    for (Eigen::Index r = 0; r < task.target_count(); ++r)
      for (Eigen::Index f = 0; f < F; ++f) xt[std::size_t((i * t.nt_max + r) * F + f)] = task.x_target(r, f);
  }
  g.inputs.emplace_back("x_context", Tensor::f32(dims({T, t.nc_max, F}), xc));
  g.inputs.emplace_back("y_context", Tensor::f32(dims({T, t.nc_max}), yc));
  g.inputs.emplace_back("context_len", Tensor::i64(dims({T}), cl));
  if (with_targets) {
    g.inputs.emplace_back("x_target", Tensor::f32(dims({T, t.nt_max, F}), xt));
    g.inputs.emplace_back("target_len", Tensor::i64(dims({T}), tl));
  }
}

// ---- mixture head and sampler ------------------------------------------------------------------
// Distance of u from the nearest interior boundary of the cumulative weights (in double).
template <class T>
double pick_margin(const reference::Mixture<T>& m, double u) {
  double cumulative = 0.0, margin = std::numeric_limits<double>::infinity();
  for (Eigen::Index k = 0; k + 1 < m.log_weight.size(); ++k) {
    cumulative += std::exp(double(m.log_weight(k)));
    margin = std::min(margin, std::abs(u - cumulative));
  }
  return margin;
}

// The caches before step t, from the double reference's decode path with the given values
// y [S, t-1], rounded to float (they are inputs of the case).
StepInputs caches_before(const ModelWeights& w, const TaskInputs& task, const InputMatrix& y, int step) {
  const auto p = reference::ModelParams<double>::from_weights(w);
  const int L = w.config.n_layers, D = w.config.d_model;
  const Eigen::Index samples = y.rows();
  StepInputs in;
  const ContextCache<double> context = reference::prefill<double>(p, task);
  for (int l = 0; l < L; ++l)
    for (Eigen::Index r = 0; r < task.context_size(); ++r)
      for (int d = 0; d < D; ++d) {
        in.context_keys.push_back(double(float(context.keys[std::size_t(l)](r, d))));
        in.context_values.push_back(double(float(context.values[std::size_t(l)](r, d))));
      }
  reference::BufferCache<double> buffer(L, samples, step, D);
  for (int t = 0; t < step; ++t) {  // steps 0..step-1 append buffers 0..step-2
    const Eigen::Index r = t > 0 ? 2 : 1;
    Matrix<double> rows(samples * r, D);
    for (Eigen::Index s = 0; s < samples; ++s) {
      if (t > 0) rows.row(s * r) = reference::embed_buffer(p, task, t - 1, y(s, t - 1));
      rows.row(s * r + r - 1) = reference::embed_target(p, task, t);
    }
    reference::decode_step<double>(p, context, buffer, rows, t > 0);
  }
  for (int l = 0; l < L; ++l)
    for (Eigen::Index s = 0; s < samples; ++s)
      for (int r = 0; r + 1 < step; ++r)
        for (int d = 0; d < D; ++d) {
          in.before_keys.push_back(double(float(buffer.keys[std::size_t(l)][std::size_t(s)](r, d))));
          in.before_values.push_back(double(float(buffer.values[std::size_t(l)][std::size_t(s)](r, d))));
        }
  return in;
}

}  // namespace

Generated generate_model_job(const ModelJobCase& c, std::uint64_t seed) {
  if (!c.weights) throw std::logic_error("model case without weights");
  const ModelWeights& w = *c.weights;
  const int D = w.config.d_model, K = w.config.num_components, L = w.config.n_layers;
  Rng rng(seed);
  Generated g;
  auto add_float_output = [&g](const std::string& name, const Shape& shape, std::vector<double> expected) {
    g.expected.emplace_back(name, Tensor::f64(shape, std::move(expected)));
  };

  if (c.contract == "prefill_kv") {
    const Tasks t = draw_tasks(c, rng);
    add_task_inputs(t, false, g);
    const Shape shape = dims({L, std::int64_t(t.tasks.size()), t.nc_max, D});
    auto [k, v] = plain::prefill_outputs(ReferenceJobs<double>(w), t);
#if ARTABPFN_HAS_MULTIPRECISION
    if (c.multiprecision) {
      auto [km, vm] = plain::prefill_outputs(ReferenceJobs<reference::Multiprecision>(w), t);
      g.multiprecision["keys"] = Tensor::f64(shape, km);
      g.multiprecision["values"] = Tensor::f64(shape, vm);
    }
#endif
    add_float_output("keys", shape, k);
    add_float_output("values", shape, v);
    return g;
  }

  if (c.contract == "teacher_forcing_density" || c.contract == "forced_ar_density") {
    const Tasks t = draw_tasks(c, rng);
    add_task_inputs(t, true, g);
    const std::int64_t T = std::int64_t(t.tasks.size()), R = c.value_sets;
    std::vector<InputMatrix> y;
    std::vector<double> y_flat(static_cast<std::size_t>(T * R * t.nt_max), 0.0);
    for (std::int64_t i = 0; i < T; ++i) {
      const Eigen::Index nt = t.tasks[std::size_t(i)].target_count();
      InputMatrix yi(R, nt);
      for (Eigen::Index r = 0; r < R; ++r)
        for (Eigen::Index j = 0; j < nt; ++j) {
          yi(r, j) = rng.normal_float(1.5);
          y_flat[std::size_t((i * R + r) * t.nt_max + j)] = yi(r, j);
        }
      y.push_back(yi);
    }
    g.inputs.emplace_back("y_target", Tensor::f32(dims({T, R, t.nt_max}), y_flat));
    const bool tf = c.contract == "teacher_forcing_density";
    const Shape shape = dims({T, R, t.nt_max});
#if ARTABPFN_HAS_MULTIPRECISION
    if (c.multiprecision)
      g.multiprecision["logpdf"] =
          Tensor::f64(shape, plain::density_outputs(ReferenceJobs<reference::Multiprecision>(w), t, y, tf));
#endif
    add_float_output("logpdf", shape, plain::density_outputs(ReferenceJobs<double>(w), t, y, tf));
    return g;
  }

  if (c.contract == "mixture_parameters" || c.contract == "sampler") {
    std::vector<double> z(static_cast<std::size_t>(c.rows) * std::size_t(D));
    for (double& v : z) v = rng.normal_float();
    g.inputs.emplace_back("z", Tensor::f32(dims({c.rows, D}), z));
    const auto md = plain::mixtures(ReferenceJobs<double>(w), z, c.rows);
    if (c.contract == "mixture_parameters") {
      const Shape shape = dims({c.rows, K});
      plain::MixtureOutputs m = plain::mixture_outputs(md);
      add_float_output("mean", shape, std::move(m.mean));
      add_float_output("std", shape, std::move(m.std));
      add_float_output("log_weight", shape, std::move(m.log_weight));
      return g;
    }
    std::vector<random_stream::Draw> draws(static_cast<std::size_t>(c.rows));
    if (c.stream == "given") {
      std::vector<double> u, n;
      for (auto& d : draws) {
        d = {rng.uniform(), rng.normal()};
        u.push_back(d.component_uniform);
        n.push_back(d.normal);
      }
      g.inputs.emplace_back("uniform", Tensor::f64(dims({c.rows}), u));
      g.inputs.emplace_back("normal", Tensor::f64(dims({c.rows}), n));
    } else {
      const std::uint32_t step = std::uint32_t(rng.bits() % 64);
      std::vector<std::int64_t> task_id, sample;
      for (int i = 0; i < c.rows; ++i) {
        task_id.push_back(std::int64_t(rng.bits() % 5));
        sample.push_back(std::int64_t(rng.bits() % 100000));
        draws[std::size_t(i)] = random_stream::draw_for(c.sampling_seed, std::uint32_t(task_id.back()),
                                                        std::uint32_t(sample.back()), step);
      }
      g.inputs.emplace_back("seed", Tensor::i64({1}, {std::int64_t(c.sampling_seed)}));
      g.inputs.emplace_back("task_id", Tensor::i64(dims({c.rows}), task_id));
      g.inputs.emplace_back("sample", Tensor::i64(dims({c.rows}), sample));
      g.inputs.emplace_back("step", Tensor::i64({1}, {std::int64_t(step)}));
    }
    // A draw is compared where the pick is unambiguous: the uniform not within kPickMargin of a
    // boundary and the float reference picking the same component.
    const auto mf = plain::mixtures(ReferenceJobs<float>(w), z, c.rows);
    std::vector<double> y;
    std::vector<std::int64_t> component;
    for (int i = 0; i < c.rows; ++i) {
      const auto& d = draws[std::size_t(i)];
      const auto& m = md[std::size_t(i)];
      const Eigen::Index k = reference::pick_component(m, d.component_uniform);
      const Eigen::Index kf = reference::pick_component(mf[std::size_t(i)], d.component_uniform);
      const bool ambiguous = pick_margin(m, d.component_uniform) < kPickMargin || k != kf;
      y.push_back(ambiguous ? kNaN : reference::sample_mixture(m, d));
      component.push_back(ambiguous ? -1 : std::int64_t(k));
    }
    add_float_output("y", dims({c.rows}), y);
    g.expected.emplace_back("component", Tensor::i64(dims({c.rows}), component));
    return g;
  }

  if (c.contract == "buffer_kv_append") {
    ModelJobCase one = c;
    one.context_len = {c.context_len.at(0)};
    one.target_len = {c.step + 1};
    const Tasks t = draw_tasks(one, rng);
    const TaskInputs& task = t.tasks[0];
    InputMatrix y(c.samples, std::max(c.step - 1, 0));
    for (Eigen::Index i = 0; i < y.size(); ++i) y.data()[i] = rng.normal_float(1.5);
    StepInputs in = caches_before(w, task, y, c.step);
    for (int s = 0; s < c.samples; ++s) in.y_buffer.push_back(rng.normal_float(1.5));
    const std::int64_t nc = task.context_size(), S = c.samples, t_ = c.step;
    std::vector<double> xt;
    for (Eigen::Index r = 0; r < task.target_count(); ++r)
      for (Eigen::Index f = 0; f < task.x_target.cols(); ++f) xt.push_back(task.x_target(r, f));
    g.inputs.emplace_back("x_target", Tensor::f32(dims({task.target_count(), task.x_target.cols()}), xt));
    g.inputs.emplace_back("step", Tensor::i64({1}, {t_}));
    g.inputs.emplace_back("y_buffer", Tensor::f32(dims({S}), in.y_buffer));
    g.inputs.emplace_back("context_keys", Tensor::f32(dims({L, nc, D}), in.context_keys));
    g.inputs.emplace_back("context_values", Tensor::f32(dims({L, nc, D}), in.context_values));
    g.inputs.emplace_back("buffer_keys_before", Tensor::f32(dims({L, S, t_ - 1, D}), in.before_keys));
    g.inputs.emplace_back("buffer_values_before", Tensor::f32(dims({L, S, t_ - 1, D}), in.before_values));
    auto [k, v] = plain::append_outputs(ReferenceJobs<double>(w), task, c.samples, c.step, in);
    const Shape shape = dims({L, S, t_, D});
    add_float_output("buffer_keys_after", shape, k);
    add_float_output("buffer_values_after", shape, v);
    return g;
  }

  if (c.contract == "sample_sequence") {
    const Tasks t = draw_tasks(c, rng);
    add_task_inputs(t, true, g);
    g.inputs.emplace_back("seed", Tensor::i64({1}, {std::int64_t(c.sampling_seed)}));
    g.inputs.emplace_back("samples", Tensor::i64({1}, {c.samples}));
    const auto pd = reference::ModelParams<double>::from_weights(w);
    const auto pf = reference::ModelParams<float>::from_weights(w);
    const std::size_t T = t.tasks.size(), S = std::size_t(c.samples), NT = std::size_t(t.nt_max);
    std::vector<double> out(T * S * NT, kNaN);
    for (std::size_t i = 0; i < T; ++i) {
      const TaskInputs& task = t.tasks[i];
      reference::SamplingOptions options;
      options.seed = c.sampling_seed;
      options.task_id = std::uint32_t(i);
      const Matrix<float> f = reference::sample_sequence<float>(pf, task, c.samples, options);
      const ContextCache<double> context = reference::prefill<double>(pd, task);
      std::vector<bool> ambiguous(S, false);
      reference::ar_decode<double>(
          pd, context, task, 0, c.samples,
          [&](Eigen::Index step, Eigen::Index s, const reference::Mixture<double>& m) {
            const auto d = random_stream::draw_for(c.sampling_seed, std::uint32_t(i), std::uint32_t(s), std::uint32_t(step));
            if (pick_margin(m, d.component_uniform) < kPickMargin) ambiguous[std::size_t(s)] = true;
            return reference::sample_mixture(m, d);
          },
          [&](Eigen::Index step, Eigen::Index s, const reference::Mixture<double>&, const double& value) {
            const std::size_t e = (i * S + std::size_t(s)) * NT + std::size_t(step);
            // A pick the float reference made differently (never seen with the margin above)
            // also ends what can be compared of this sample.
            if (std::abs(double(f(s, step)) - value) > 1e-2 * (1.0 + std::abs(value))) ambiguous[std::size_t(s)] = true;
            out[e] = ambiguous[std::size_t(s)] ? kNaN : value;
          });
    }
    add_float_output("samples", dims({std::int64_t(T), c.samples, t.nt_max}), out);
    return g;
  }
  throw std::logic_error("generate_model_job: unknown contract " + c.contract);
}

}  // namespace artabpfn::conformance::detail
