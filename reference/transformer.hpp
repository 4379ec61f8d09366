#pragma once
// The layer stack in two forms that must agree (docs/model.md, "One layer", "Who sees whom"):
//   dense_forward: every row of a task at once under a visibility rule (the teacher-forcing pass);
//   prefill + decode_step: context K/V computed once, buffer K/V appended per sample per step.
// The dense form is the literal definition; the cached form is what engines do. Properties hold
// them equal, and the fixtures hold both to the peer. Every function takes the products object
// it multiplies with (products.hpp; the reference's own by default).
#include <vector>

#include "reference/products.hpp"

namespace artabpfn::reference {

// Feature attention over a single token is the identity softmax: h = LN1(x + Wo_f Wv_f x).
template <class T, class Products = ExactProducts<T>>
Matrix<T> feature_stage(const LayerParams<T>& layer, const Matrix<T>& x, const Products& products = {}) {
  return layer_norm(layer.norm1, x + products.linear(layer.feature_out, products.linear(layer.feature_v, x)));
}

// Everything after row attention: LN2 of the residual, then the feed-forward block and LN3.
template <class T, class Products = ExactProducts<T>>
Matrix<T> post_attention(const LayerParams<T>& layer, const Matrix<T>& h, const Matrix<T>& attention,
                         const Products& products = {}) {
  const Matrix<T> h2 = layer_norm(layer.norm2, h + products.linear(layer.out, attention));
  return layer_norm(layer.norm3, h2 + products.linear(layer.ff_out, gelu(products.linear(layer.ff_in, h2))));
}

template <class T>
struct DenseForward {
  Matrix<T> z;                                // final normalised rows [n, D]
  std::vector<Matrix<T>> keys, values;        // per layer [n, D]
};

template <class T, class Products = ExactProducts<T>>
DenseForward<T> dense_forward(const ModelParams<T>& p, Matrix<T> x, const Visibility& visible,
                              const Products& products = {}) {
  DenseForward<T> result;
  for (const LayerParams<T>& layer : p.layers) {
    const Matrix<T> h = feature_stage(layer, x, products);
    const Matrix<T> k = products.linear(layer.k, h), v = products.linear(layer.v, h);
    const Matrix<T> attention = products.attention(p.config.n_heads, products.linear(layer.q, h), k, v, visible);
    x = post_attention(layer, h, attention, products);
    result.keys.push_back(k);
    result.values.push_back(v);
  }
  result.z = layer_norm(p.final_norm, x);
  return result;
}

// Per-layer K/V of a task's context rows [Nc, D]; depends on the context alone.
template <class T>
struct ContextCache {
  std::vector<Matrix<T>> keys, values;
};

template <class T, class Products = ExactProducts<T>>
ContextCache<T> prefill(const ModelParams<T>& p, Matrix<T> context_rows, const Products& products = {}) {
  ContextCache<T> cache;
  for (const LayerParams<T>& layer : p.layers) {
    const Matrix<T> h = feature_stage(layer, context_rows, products);
    cache.keys.push_back(products.linear(layer.k, h));
    cache.values.push_back(products.linear(layer.v, h));
    const Matrix<T> attention = products.attention(p.config.n_heads, products.linear(layer.q, h), cache.keys.back(),
                                                   cache.values.back(), all_visible);
    context_rows = post_attention(layer, h, attention, products);
  }
  return cache;
}

// Buffer K/V of S samples: keys[layer][sample] is [capacity, D] with `length` rows filled.
template <class T>
struct BufferCache {
  std::vector<std::vector<Matrix<T>>> keys, values;
  Eigen::Index length = 0;

  BufferCache(int n_layers, Eigen::Index samples, Eigen::Index capacity, int d_model)
      : keys(n_layers, std::vector<Matrix<T>>(samples, Matrix<T>(capacity, d_model))), values(keys) {}
};

// One AR step for S samples. `rows` holds r rows per sample, sample-major: with a buffer row
// (step t >= 1) r = 2 and row 0 of each sample is buffer t-1, row 1 target t; else r = 1.
// Buffer t-1's K/V are appended before the attention, since it sees itself and target t sees
// buffers 0..t-1: both rows see the whole context and the whole (appended) buffer.
// Returns the final normalised target rows [S, D].
template <class T, class Products = ExactProducts<T>>
Matrix<T> decode_step(const ModelParams<T>& p, const ContextCache<T>& context, BufferCache<T>& buffer,
                      Matrix<T> rows, bool has_buffer_row, const Products& products = {}) {
  const Eigen::Index r = has_buffer_row ? 2 : 1;
  const Eigen::Index samples = rows.rows() / r;
  const Eigen::Index t = buffer.length;  // buffer rows already cached
  const Eigen::Index visible_buffers = t + (has_buffer_row ? 1 : 0);
  for (std::size_t l = 0; l < p.layers.size(); ++l) {
    const LayerParams<T>& layer = p.layers[l];
    const Matrix<T> h = feature_stage(layer, rows, products);
    const Matrix<T> q = products.linear(layer.q, h), k = products.linear(layer.k, h), v = products.linear(layer.v, h);
    Matrix<T> attention(rows.rows(), rows.cols());
    const Eigen::Index nc = context.keys[l].rows();
    for (Eigen::Index s = 0; s < samples; ++s) {
      if (has_buffer_row) {
        buffer.keys[l][s].row(t) = k.row(s * r);
        buffer.values[l][s].row(t) = v.row(s * r);
      }
      Matrix<T> keys(nc + visible_buffers, k.cols()), values(nc + visible_buffers, v.cols());
      keys.topRows(nc) = context.keys[l];
      keys.bottomRows(visible_buffers) = buffer.keys[l][s].topRows(visible_buffers);
      values.topRows(nc) = context.values[l];
      values.bottomRows(visible_buffers) = buffer.values[l][s].topRows(visible_buffers);
      attention.middleRows(s * r, r) =
          products.attention(p.config.n_heads, q.middleRows(s * r, r), keys, values, all_visible);
    }
    rows = post_attention(layer, h, attention, products);
  }
  if (has_buffer_row) buffer.length = visible_buffers;
  Matrix<T> targets(samples, rows.cols());
  for (Eigen::Index s = 0; s < samples; ++s) targets.row(s) = rows.row(s * r + r - 1);
  return layer_norm(p.final_norm, targets);
}

}  // namespace artabpfn::reference
