#pragma once
// The jobs of docs/model.md ("The jobs") and the forced-value AR density, for one task and
// for batches of tasks. Several tasks per call each have their own context; the samples of a
// task share its prefilled context.
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "reference/embedding.hpp"
#include "reference/mixture_head.hpp"
#include "reference/transformer.hpp"

namespace artabpfn::reference {

// Visibility in the teacher-forcing pass over rows [context Nc | buffers Nt | targets Nt].
struct TeacherForcingVisibility {
  Eigen::Index nc, nt;
  bool operator()(Eigen::Index query, Eigen::Index key) const {
    if (key < nc) return true;                     // everyone sees the context
    if (query < nc) return false;                  // the context sees only itself
    const Eigen::Index key_buffer = key - nc;
    if (key_buffer >= nt) return false;            // nobody sees a target
    if (query < nc + nt) return key_buffer <= query - nc;  // buffer j sees buffers 0..j
    return key_buffer < query - nc - nt;           // target t sees buffers 0..t-1
  }
};

template <class T>
struct TeacherForcing {
  Vector<T> logpdf;                 // [Nt] log p(y_t | context, y_0..y_{t-1})
  Matrix<T> z_target;               // [Nt, D] final normalised target rows
  std::vector<Mixture<T>> mixture;  // [Nt]
  ContextCache<T> context;          // per-layer context K/V from the same pass
};

template <class T, class Products = ExactProducts<T>>
TeacherForcing<T> teacher_forcing(const ModelParams<T>& p, const TaskInputs& task, const Eigen::VectorXd& y,
                                  const Products& products = {}) {
  task.validate("teacher_forcing");
  validate_target_values(task, y, "teacher_forcing");
  const Eigen::Index nc = task.context_size(), nt = task.target_count();
  Matrix<T> rows(nc + 2 * nt, p.config.d_model);
  rows.topRows(nc) = embed_context(p, task);
  for (Eigen::Index j = 0; j < nt; ++j) {
    rows.row(nc + j) = embed_buffer(p, task, j, T(y(j)));
    rows.row(nc + nt + j) = embed_target(p, task, j);
  }
  const DenseForward<T> forward = dense_forward(p, rows, TeacherForcingVisibility{nc, nt}, products);
  TeacherForcing<T> result;
  result.z_target = forward.z.bottomRows(nt);
  result.mixture = mixture_head(p, result.z_target, products);
  result.logpdf.resize(nt);
  for (Eigen::Index t = 0; t < nt; ++t) result.logpdf(t) = log_density(result.mixture[t], T(y(t)));
  for (std::size_t l = 0; l < forward.keys.size(); ++l) {
    result.context.keys.push_back(forward.keys[l].topRows(nc));
    result.context.values.push_back(forward.values[l].topRows(nc));
  }
  return result;
}

template <class T, class Products = ExactProducts<T>>
ContextCache<T> prefill(const ModelParams<T>& p, const TaskInputs& task, const Products& products = {}) {
  task.validate("prefill");
  return prefill(p, embed_context(p, task), products);
}

// The reference model as ar_decode_with, forced_ar_logpdf_with and sample_sequence_with see a
// model: params(), prefill, decode_step and mixture_head. Another implementation of the model's
// arithmetic (a plain implementation of a precision, conformance/plain) offers the same members,
// and so decodes, scores and samples with the same loop and the same random stream. Params is
// how the decoder holds the parameters: a reference (the default) or, for a decoder that owns
// them (conformance/plain/model_jobs.hpp, ReferenceJobs), the parameters themselves. Products:
// how it multiplies (products.hpp; a plain implementation's, conformance/plain/tf32_jobs.hpp).
template <class T, class Params = const ModelParams<T>&, class Products = ExactProducts<T>>
struct ReferenceDecoder {
  using Scalar = T;
  Params p;
  Products products{};
  const ModelParams<T>& params() const { return p; }
  ContextCache<T> prefill(const TaskInputs& task) const { return reference::prefill(p, task, products); }
  Matrix<T> decode_step(const ContextCache<T>& context, BufferCache<T>& buffer, Matrix<T> rows,
                        bool has_buffer_row) const {
    return reference::decode_step(p, context, buffer, std::move(rows), has_buffer_row, products);
  }
  std::vector<Mixture<T>> mixture_head(const Matrix<T>& z) const { return reference::mixture_head(p, z, products); }
};

// Runs the AR decode path of `model` for samples [first, first + count) of a task. At step t,
// `choose(t, sample, mixture)` returns the value y_t of that sample (sampled or forced), and
// `record(t, sample, mixture, y_t)` sees it. Buffer K/V are appended per sample.
template <class Model, class Choose, class Record>
void ar_decode_with(const Model& model, const ContextCache<typename Model::Scalar>& context, const TaskInputs& task,
                    Eigen::Index first, Eigen::Index count, Choose&& choose, Record&& record) {
  using T = typename Model::Scalar;
  const ModelParams<T>& p = model.params();
  const Eigen::Index nt = task.target_count();
  BufferCache<T> buffer(p.config.n_layers, count, nt, p.config.d_model);
  std::vector<T> previous(static_cast<std::size_t>(count));
  for (Eigen::Index t = 0; t < nt; ++t) {
    const bool has_buffer = t > 0;
    const Eigen::Index r = has_buffer ? 2 : 1;
    Matrix<T> rows(count * r, p.config.d_model);
    const RowVector<T> target = embed_target(p, task, t);
    for (Eigen::Index s = 0; s < count; ++s) {
      if (has_buffer) rows.row(s * r) = embed_buffer(p, task, t - 1, previous[static_cast<std::size_t>(s)]);
      rows.row(s * r + r - 1) = target;
    }
    const std::vector<Mixture<T>> mixture = model.mixture_head(model.decode_step(context, buffer, rows, has_buffer));
    for (Eigen::Index s = 0; s < count; ++s) {
      const T y = choose(t, first + s, mixture[static_cast<std::size_t>(s)]);
      record(t, first + s, mixture[static_cast<std::size_t>(s)], y);
      previous[static_cast<std::size_t>(s)] = y;
    }
  }
}

// ar_decode_with on the reference model.
template <class T, class Choose, class Record>
void ar_decode(const ModelParams<T>& p, const ContextCache<T>& context, const TaskInputs& task, Eigen::Index first,
               Eigen::Index count, Choose&& choose, Record&& record) {
  ar_decode_with(ReferenceDecoder<T>{p}, context, task, first, count, std::forward<Choose>(choose),
                 std::forward<Record>(record));
}

// log p(y_t | context, y_0..y_{t-1}) along the decode path of `model` (as ar_decode_with), for
// R value sets y [R, Nt] decoded together.
template <class Model>
Matrix<typename Model::Scalar> forced_ar_logpdf_with(const Model& model, const TaskInputs& task, const InputMatrix& y) {
  using T = typename Model::Scalar;
  task.validate("forced_ar_logpdf");
  for (Eigen::Index r = 0; r < y.rows(); ++r) validate_target_values(task, y.row(r).transpose(), "forced_ar_logpdf");
  Matrix<T> logpdf(y.rows(), task.target_count());
  const ContextCache<T> context = model.prefill(task);
  ar_decode_with(
      model, context, task, 0, y.rows(), [&](Eigen::Index t, Eigen::Index s, const Mixture<T>&) { return T(y(s, t)); },
      [&](Eigen::Index t, Eigen::Index s, const Mixture<T>& m, const T& value) { logpdf(s, t) = log_density(m, value); });
  return logpdf;
}

// forced_ar_logpdf_with on the reference model.
template <class T>
Matrix<T> forced_ar_logpdf(const ModelParams<T>& p, const TaskInputs& task, const InputMatrix& y) {
  return forced_ar_logpdf_with(ReferenceDecoder<T>{p}, task, y);
}

struct SamplingOptions {
  std::uint64_t seed = 0;
  std::uint32_t task_id = 0;          // the counter's task word (random_stream.hpp)
  Eigen::Index chunk_samples = 256;   // samples decoded together; results do not depend on it
};

// S joint samples [S, Nt] of `model` (ReferenceDecoder or another model, as ar_decode_with) drawn
// with the random_stream contract.
template <class Model>
Matrix<typename Model::Scalar> sample_sequence_with(const Model& model, const TaskInputs& task, Eigen::Index samples,
                                                    const SamplingOptions& options) {
  using T = typename Model::Scalar;
  task.validate("sample_sequence");
  Matrix<T> out(samples, task.target_count());
  const ContextCache<T> context = model.prefill(task);
  for (Eigen::Index first = 0; first < samples; first += options.chunk_samples) {
    const Eigen::Index count = std::min(options.chunk_samples, samples - first);
    ar_decode_with(
        model, context, task, first, count,
        [&](Eigen::Index t, Eigen::Index s, const Mixture<T>& m) {
          return sample_mixture(m, random_stream::draw_for(options.seed, options.task_id, static_cast<std::uint32_t>(s),
                                                           static_cast<std::uint32_t>(t)));
        },
        [&](Eigen::Index t, Eigen::Index s, const Mixture<T>&, const T& value) { out(s, t) = value; });
  }
  return out;
}

// S joint samples [S, Nt] of the reference model.
template <class T>
Matrix<T> sample_sequence(const ModelParams<T>& p, const TaskInputs& task, Eigen::Index samples,
                          const SamplingOptions& options) {
  return sample_sequence_with(ReferenceDecoder<T>{p}, task, samples, options);
}

// Several tasks per call. Densities: y[task] is [R, Nt] (R value sets scored under one context),
// by teacher forcing. Samples: task i uses counter task id task_ids[i] (default: i).
template <class T>
std::vector<Matrix<T>> evaluate_joint_density(const ModelParams<T>& p, const std::vector<TaskInputs>& tasks,
                                              const std::vector<InputMatrix>& y) {
  std::vector<Matrix<T>> out;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    Matrix<T> logpdf(y.at(i).rows(), tasks[i].target_count());
    for (Eigen::Index r = 0; r < y[i].rows(); ++r)
      logpdf.row(r) = teacher_forcing(p, tasks[i], y[i].row(r).transpose()).logpdf.transpose();
    out.push_back(std::move(logpdf));
  }
  return out;
}

template <class T>
std::vector<Matrix<T>> sample_sequence(const ModelParams<T>& p, const std::vector<TaskInputs>& tasks,
                                       Eigen::Index samples, std::uint64_t seed,
                                       const std::optional<std::vector<std::uint32_t>>& task_ids = std::nullopt) {
  std::vector<Matrix<T>> out;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    SamplingOptions options;
    options.seed = seed;
    options.task_id = task_ids ? task_ids->at(i) : static_cast<std::uint32_t>(i);
    out.push_back(sample_sequence(p, tasks[i], samples, options));
  }
  return out;
}

}  // namespace artabpfn::reference
