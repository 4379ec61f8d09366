#pragma once
// The model jobs as computations on a case's tensors (docs/conformance_vectors.md, "Model jobs"):
// the inputs read back from a case file and the outputs of each job in the contract layouts,
// written once over a "jobs" object so that the double and 50-digit references (the expected
// values) and the plain implementations (the tolerance baselines) share them:
//   ReferenceJobs<T>  the reference model (reference/reference.hpp) in scalar T;
//   Tf32Jobs          the plain TF32 implementation (tf32_jobs.hpp).
// A jobs object offers params(), prefill, teacher_forcing_logpdf, forced_ar_logpdf, mixture_head
// and decode_step with the reference's meanings.
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "artabpfn/model_weights.hpp"
#include "artabpfn/random_stream.hpp"
#include "conformance/format.hpp"
#include "reference/reference.hpp"

namespace artabpfn::conformance::plain {

// Tasks of a case in the reference's form, with the padded sizes of the case's tensors.
struct Tasks {
  std::vector<reference::TaskInputs> tasks;
  int nc_max = 0, nt_max = 0, features = 1;
};

// The inputs of a buffer_kv_append case besides its task.
struct StepInputs {
  std::vector<double> context_keys, context_values;  // [L, Nc, D]
  std::vector<double> before_keys, before_values;    // [L, S, t-1, D]
  std::vector<double> y_buffer;                      // [S]
};

// Reading a case's inputs (throw InputError when a tensor is missing or malformed).
Tasks read_tasks(const CaseFile& file, bool with_targets);
std::vector<reference::InputMatrix> read_value_sets(const CaseFile& file, const Tasks& tasks);  // y_target: per task [R, Nt]
std::vector<random_stream::Draw> read_draws(const CaseFile& file);  // sampler: given or Philox
// buffer_kv_append: the task (x_target [Nt, F], no context rows: only the targets matter), step
// t, and the caches.
reference::TaskInputs read_step_task(const CaseFile& file);
StepInputs read_step_inputs(const CaseFile& file);

// The reference model's jobs: its decoder (params, prefill, decode_step, mixture_head), owning
// the parameters, and the two densities.
template <class T>
class ReferenceJobs : public reference::ReferenceDecoder<T, reference::ModelParams<T>> {
 public:
  explicit ReferenceJobs(const ModelWeights& weights)
      : reference::ReferenceDecoder<T, reference::ModelParams<T>>{reference::ModelParams<T>::from_weights(weights)} {}
  reference::Vector<T> teacher_forcing_logpdf(const reference::TaskInputs& task, const Eigen::VectorXd& y) const {
    return reference::teacher_forcing<T>(this->params(), task, y).logpdf;
  }
  // The instantiation compiled once (reference/reference.hpp): forced_ar_logpdf_with on the
  // reference decoder.
  reference::Matrix<T> forced_ar_logpdf(const reference::TaskInputs& task, const reference::InputMatrix& y) const {
    return reference::forced_ar_logpdf<T>(this->params(), task, y);
  }
};

// logpdf [R, Nt] of R value sets y [R, Nt] by teacher forcing: one pass of the jobs object per
// value set.
template <class Jobs>
reference::Matrix<typename Jobs::Scalar> teacher_forcing_rows(const Jobs& jobs, const reference::TaskInputs& task,
                                                              const reference::InputMatrix& y) {
  reference::Matrix<typename Jobs::Scalar> logpdf(y.rows(), task.target_count());
  for (Eigen::Index r = 0; r < y.rows(); ++r)
    logpdf.row(r) = jobs.teacher_forcing_logpdf(task, y.row(r).transpose()).transpose();
  return logpdf;
}

inline constexpr double kNotCompared = std::numeric_limits<double>::quiet_NaN();

// prefill_kv: keys and values [n_layers, T, Nc_max, D], padding rows NaN.
template <class Jobs>
std::pair<std::vector<double>, std::vector<double>> prefill_outputs(const Jobs& jobs, const Tasks& t) {
  const ModelConfig& c = jobs.params().config;
  const std::size_t L = std::size_t(c.n_layers), D = std::size_t(c.d_model), T = t.tasks.size();
  std::vector<double> keys(L * T * std::size_t(t.nc_max) * D, kNotCompared), values(keys);
  for (std::size_t i = 0; i < T; ++i) {
    const auto cache = jobs.prefill(t.tasks[i]);
    for (std::size_t l = 0; l < L; ++l)
      for (Eigen::Index r = 0; r < t.tasks[i].context_size(); ++r)
        for (std::size_t d = 0; d < D; ++d) {
          const std::size_t e = ((l * T + i) * std::size_t(t.nc_max) + std::size_t(r)) * D + d;
          keys[e] = reference::to_double(cache.keys[l](r, Eigen::Index(d)));
          values[e] = reference::to_double(cache.values[l](r, Eigen::Index(d)));
        }
  }
  return {keys, values};
}

// teacher_forcing_density / forced_ar_density: logpdf [T, R, Nt_max], padding NaN.
template <class Jobs>
std::vector<double> density_outputs(const Jobs& jobs, const Tasks& t, const std::vector<reference::InputMatrix>& y,
                                    bool teacher_forcing) {
  const std::size_t T = t.tasks.size();
  const Eigen::Index R = y.empty() ? 0 : y[0].rows();
  std::vector<double> out(T * std::size_t(R) * std::size_t(t.nt_max), kNotCompared);
  for (std::size_t i = 0; i < T; ++i) {
    const Eigen::Index nt = t.tasks[i].target_count();
    const reference::Matrix<typename Jobs::Scalar> logpdf =
        teacher_forcing ? teacher_forcing_rows(jobs, t.tasks[i], y[i]) : jobs.forced_ar_logpdf(t.tasks[i], y[i]);
    for (Eigen::Index r = 0; r < R; ++r)
      for (Eigen::Index j = 0; j < nt; ++j)
        out[(i * std::size_t(R) + std::size_t(r)) * std::size_t(t.nt_max) + std::size_t(j)] =
            reference::to_double(logpdf(r, j));
  }
  return out;
}

// The head's mixtures at rows z [rows, D].
template <class Jobs>
std::vector<reference::Mixture<typename Jobs::Scalar>> mixtures(const Jobs& jobs, const std::vector<double>& z, int rows) {
  using T = typename Jobs::Scalar;
  reference::Matrix<T> zm(rows, jobs.params().config.d_model);
  for (Eigen::Index i = 0; i < zm.size(); ++i) zm.data()[i] = T(z[std::size_t(i)]);
  return jobs.mixture_head(zm);
}

// mixture_parameters: mean, std, log_weight [rows, K].
struct MixtureOutputs {
  std::vector<double> mean, std, log_weight;
};
template <class T>
MixtureOutputs mixture_outputs(const std::vector<reference::Mixture<T>>& m) {
  MixtureOutputs out;
  for (const reference::Mixture<T>& row : m)
    for (Eigen::Index k = 0; k < row.mean.size(); ++k) {
      out.mean.push_back(reference::to_double(row.mean(k)));
      out.std.push_back(reference::to_double(row.std(k)));
      out.log_weight.push_back(reference::to_double(row.log_weight(k)));
    }
  return out;
}

// buffer_kv_append: one decode step t from the given caches; the buffer K/V after it [L, S, t, D].
template <class Jobs>
std::pair<std::vector<double>, std::vector<double>> append_outputs(const Jobs& jobs, const reference::TaskInputs& task,
                                                                   int samples, int step, const StepInputs& in) {
  using T = typename Jobs::Scalar;
  const auto& p = jobs.params();
  const int L = p.config.n_layers, D = p.config.d_model;
  const Eigen::Index nc = Eigen::Index(in.context_keys.size() / (std::size_t(L) * std::size_t(D)));
  reference::ContextCache<T> context;
  for (int l = 0; l < L; ++l) {
    reference::Matrix<T> k(nc, D), v(nc, D);
    for (Eigen::Index r = 0; r < nc; ++r)
      for (int d = 0; d < D; ++d) {
        const std::size_t e = (std::size_t(l) * std::size_t(nc) + std::size_t(r)) * std::size_t(D) + std::size_t(d);
        k(r, d) = T(in.context_keys[e]);
        v(r, d) = T(in.context_values[e]);
      }
    context.keys.push_back(k);
    context.values.push_back(v);
  }
  reference::BufferCache<T> buffer(L, samples, step, D);
  const std::size_t before = std::size_t(step - 1);
  for (int l = 0; l < L; ++l)
    for (int s = 0; s < samples; ++s)
      for (std::size_t r = 0; r < before; ++r)
        for (int d = 0; d < D; ++d) {
          const std::size_t e =
              ((std::size_t(l) * std::size_t(samples) + std::size_t(s)) * before + r) * std::size_t(D) + std::size_t(d);
          buffer.keys[std::size_t(l)][std::size_t(s)](Eigen::Index(r), d) = T(in.before_keys[e]);
          buffer.values[std::size_t(l)][std::size_t(s)](Eigen::Index(r), d) = T(in.before_values[e]);
        }
  buffer.length = Eigen::Index(before);
  reference::Matrix<T> rows(2 * samples, D);
  for (int s = 0; s < samples; ++s) {
    rows.row(2 * s) = reference::embed_buffer(p, task, step - 1, T(in.y_buffer[std::size_t(s)]));
    rows.row(2 * s + 1) = reference::embed_target(p, task, step);
  }
  jobs.decode_step(context, buffer, rows, true);
  std::vector<double> keys(std::size_t(L) * std::size_t(samples) * std::size_t(step) * std::size_t(D)), values(keys.size());
  for (int l = 0; l < L; ++l)
    for (int s = 0; s < samples; ++s)
      for (int r = 0; r < step; ++r)
        for (int d = 0; d < D; ++d) {
          const std::size_t e =
              ((std::size_t(l) * std::size_t(samples) + std::size_t(s)) * std::size_t(step) + std::size_t(r)) *
                  std::size_t(D) +
              std::size_t(d);
          keys[e] = reference::to_double(buffer.keys[std::size_t(l)][std::size_t(s)](r, d));
          values[e] = reference::to_double(buffer.values[std::size_t(l)][std::size_t(s)](r, d));
        }
  return {keys, values};
}

}  // namespace artabpfn::conformance::plain
