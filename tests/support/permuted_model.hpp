#pragma once
// The same model with its hidden units relabelled: heads in another order, the dimensions within
// every head in another order (the same for q, k and v, so every attention score is the same),
// the feed-forward and head hidden units in other orders. The function is unchanged; every sum
// over hidden units (products, LayerNorm moments, attention dot products) runs in another order.
// A property uses it for another float32 summation order where reordering the context cannot give
// one (fewer than two context rows).
#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "reference/model_params.hpp"

namespace artabpfn::test_support {

namespace permuted_detail {

using Order = std::vector<Eigen::Index>;  // new index i holds old index order[i]

inline Order shuffled(Eigen::Index n, std::mt19937_64& engine) {
  Order order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::shuffle(order.begin(), order.end(), engine);
  return order;
}

template <class T>
reference::RowVector<T> entries(const reference::RowVector<T>& v, const Order& order) {
  if (v.size() == 0) return v;  // an absent bias
  reference::RowVector<T> out(v.size());
  for (std::size_t i = 0; i < order.size(); ++i) out(Eigen::Index(i)) = v(order[i]);
  return out;
}

template <class T>
reference::Matrix<T> columns(const reference::Matrix<T>& m, const Order& order) {
  reference::Matrix<T> out(m.rows(), m.cols());
  for (std::size_t j = 0; j < order.size(); ++j) out.col(Eigen::Index(j)) = m.col(order[j]);
  return out;
}

template <class T>
reference::Matrix<T> rows(const reference::Matrix<T>& m, const Order& order) {
  reference::Matrix<T> out(m.rows(), m.cols());
  for (std::size_t i = 0; i < order.size(); ++i) out.row(Eigen::Index(i)) = m.row(order[i]);
  return out;
}

// y = x W^T + b with x's units in order `in` and y's in order `out` (an empty order: unchanged).
template <class T>
reference::LinearParams<T> linear(const reference::LinearParams<T>& p, const Order& out, const Order& in) {
  reference::LinearParams<T> q = p;
  if (!in.empty()) q.weight = columns(q.weight, in);
  if (!out.empty()) {
    q.weight = rows(q.weight, out);
    q.bias = entries(q.bias, out);
  }
  return q;
}

template <class T>
reference::LayerNormParams<T> norm(const reference::LayerNormParams<T>& p, const Order& order) {
  return {entries(p.weight, order), entries(p.bias, order)};
}

}  // namespace permuted_detail

template <class T>
reference::ModelParams<T> permuted_hidden_units(const reference::ModelParams<T>& p, std::mt19937_64& engine) {
  using namespace permuted_detail;
  const ModelConfig& c = p.config;
  const Eigen::Index heads = c.n_heads, head_dim = c.head_dim();
  const Order head_order = shuffled(heads, engine), dim_order = shuffled(head_dim, engine);
  Order d;  // the model dimension: whole heads moved, the same order within each
  for (const Eigen::Index h : head_order)
    for (const Eigen::Index j : dim_order) d.push_back(h * head_dim + j);

  reference::ModelParams<T> q = p;
  q.x_embed_weight = entries(p.x_embed_weight, d);
  q.x_embed_bias = entries(p.x_embed_bias, d);
  q.y_embed_weight = entries(p.y_embed_weight, d);
  q.y_embed_bias = entries(p.y_embed_bias, d);
  q.marker = columns(p.marker, d);
  q.ar_tokens = columns(p.ar_tokens, d);
  for (reference::LayerParams<T>& layer : q.layers) {
    const Order ff = shuffled(c.d_ff, engine);
    for (auto* map : {&layer.feature_v, &layer.feature_out, &layer.q, &layer.k, &layer.v, &layer.out})
      *map = linear(*map, d, d);
    layer.ff_in = linear(layer.ff_in, ff, d);
    layer.ff_out = linear(layer.ff_out, d, ff);
    for (auto* n : {&layer.norm1, &layer.norm2, &layer.norm3}) *n = norm(*n, d);
  }
  q.final_norm = norm(p.final_norm, d);
  const Order hidden = shuffled(p.head_in.weight.rows(), engine);
  q.head_in = linear(p.head_in, hidden, d);
  q.head_out = linear(p.head_out, {}, hidden);
  return q;
}

}  // namespace artabpfn::test_support
