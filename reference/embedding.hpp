#pragma once
// Row embeddings (docs/model.md, "Rows"). Each scalar feature is embedded on its own and the C
// embeddings are averaged; marker rows: 0 target, 1 context, 2 buffer.
#include "reference/model_params.hpp"
#include "reference/task.hpp"

namespace artabpfn::reference {

inline constexpr int kTargetMarker = 0;
inline constexpr int kContextMarker = 1;
inline constexpr int kBufferMarker = 2;

// mean_f(w_x * x[f] + b_x) for one row of features.
template <class T, class Row>
RowVector<T> embed_features(const ModelParams<T>& p, const Eigen::MatrixBase<Row>& x) {
  RowVector<T> sum = RowVector<T>::Zero(p.config.d_model);
  for (Eigen::Index f = 0; f < x.size(); ++f) sum += p.x_embed_weight * T(x(f)) + p.x_embed_bias;
  return sum / T(x.size());
}

template <class T>
RowVector<T> embed_value(const ModelParams<T>& p, const T& y) {
  return p.y_embed_weight * y + p.y_embed_bias;
}

template <class T>
Matrix<T> embed_context(const ModelParams<T>& p, const TaskInputs& task) {
  Matrix<T> rows(task.context_size(), p.config.d_model);
  for (Eigen::Index i = 0; i < rows.rows(); ++i)
    rows.row(i) = embed_features(p, task.x_context.row(i)) + embed_value(p, T(task.y_context(i))) +
                  p.marker.row(kContextMarker);
  return rows;
}

// Buffer row j: target j's features with its known or sampled value y_j and AR token j mod L.
template <class T>
RowVector<T> embed_buffer(const ModelParams<T>& p, const TaskInputs& task, Eigen::Index j, const T& y_j) {
  return embed_features(p, task.x_target.row(j)) + embed_value(p, y_j) + p.marker.row(kBufferMarker) +
         p.ar_tokens.row(j % p.config.buffer_size);
}

template <class T>
RowVector<T> embed_target(const ModelParams<T>& p, const TaskInputs& task, Eigen::Index t) {
  return embed_features(p, task.x_target.row(t)) + p.marker.row(kTargetMarker);
}

}  // namespace artabpfn::reference
