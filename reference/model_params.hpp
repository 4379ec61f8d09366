#pragma once
// The model's parameters converted to the reference scalar T (float32 values are exact in double
// and in the multiprecision type, so conversion adds no error there).
#include <vector>

#include "artabpfn/model_weights.hpp"
#include "reference/scalar.hpp"

namespace artabpfn::reference {

template <class T>
struct LayerNormParams {
  RowVector<T> weight, bias;
};

template <class T>
struct LinearParams {
  Matrix<T> weight;  // [out, in], PyTorch layout
  RowVector<T> bias;  // empty when the layer has no bias
};

template <class T>
struct LayerParams {
  LinearParams<T> feature_v, feature_out;  // attn_features: softmax over one token is 1
  LinearParams<T> q, k, v, out;            // attn_rows
  LinearParams<T> ff_in, ff_out;           // ff.0, ff.2
  LayerNormParams<T> norm1, norm2, norm3;
};

template <class T>
struct ModelParams {
  ModelConfig config;
  RowVector<T> x_embed_weight, x_embed_bias, y_embed_weight, y_embed_bias;  // [D]
  Matrix<T> marker;                                                        // [3, D]: target, context, buffer
  std::vector<LayerParams<T>> layers;
  LayerNormParams<T> final_norm;
  LinearParams<T> head_in, head_out;  // head.head.0, head.head.2
  RowVector<T> mean_bias, std_bias, weight_bias;  // [K]
  Matrix<T> ar_tokens;                            // [L, D]

  static ModelParams from_weights(const ModelWeights& weights);
};

namespace detail {

template <class T>
Matrix<T> to_matrix(const HostTensor<float>& t, Eigen::Index rows, Eigen::Index cols) {
  Matrix<T> m(rows, cols);
  for (Eigen::Index i = 0; i < rows * cols; ++i) m.data()[i] = T(t.data[static_cast<std::size_t>(i)]);
  return m;
}

template <class T>
RowVector<T> to_row(const HostTensor<float>& t) {
  RowVector<T> v(t.size());
  for (Eigen::Index i = 0; i < v.size(); ++i) v(i) = T(t.data[static_cast<std::size_t>(i)]);
  return v;
}

template <class T>
LinearParams<T> linear(const ModelWeights& w, const std::string& prefix, bool has_bias) {
  const auto& weight = w.at(prefix + ".weight");
  LinearParams<T> p{to_matrix<T>(weight, weight.dim(0), weight.dim(1)), {}};
  if (has_bias) p.bias = to_row<T>(w.at(prefix + ".bias"));
  return p;
}

template <class T>
LayerNormParams<T> layer_norm(const ModelWeights& w, const std::string& prefix) {
  return {to_row<T>(w.at(prefix + ".weight")), to_row<T>(w.at(prefix + ".bias"))};
}

}  // namespace detail

template <class T>
ModelParams<T> ModelParams<T>::from_weights(const ModelWeights& w) {
  w.validate();
  using namespace detail;
  ModelParams p;
  p.config = w.config;
  p.x_embed_weight = to_row<T>(w.at("embedder.x_embed.weight"));
  p.x_embed_bias = to_row<T>(w.at("embedder.x_embed.bias"));
  p.y_embed_weight = to_row<T>(w.at("embedder.y_embed.weight"));
  p.y_embed_bias = to_row<T>(w.at("embedder.y_embed.bias"));
  p.marker = to_matrix<T>(w.at("embedder.marker_embed.weight"), 3, w.config.d_model);
  for (int i = 0; i < w.config.n_layers; ++i) {
    const auto at = [&](const std::string& s) { return layer_tensor(i, s); };
    p.layers.push_back(LayerParams<T>{
        linear<T>(w, at("attn_features.v_proj"), false), linear<T>(w, at("attn_features.out_proj"), false),
        linear<T>(w, at("attn_rows.q_proj"), false), linear<T>(w, at("attn_rows.k_proj"), false),
        linear<T>(w, at("attn_rows.v_proj"), false), linear<T>(w, at("attn_rows.out_proj"), false),
        linear<T>(w, at("ff.0"), true), linear<T>(w, at("ff.2"), true),
        layer_norm<T>(w, at("norm1")), layer_norm<T>(w, at("norm2")), layer_norm<T>(w, at("norm3"))});
  }
  p.final_norm = layer_norm<T>(w, "backbone.norm");
  p.head_in = linear<T>(w, "head.head.0", true);
  p.head_out = linear<T>(w, "head.head.2", true);
  p.mean_bias = to_row<T>(w.at("head.mean_bias"));
  p.std_bias = to_row<T>(w.at("head.std_bias"));
  p.weight_bias = to_row<T>(w.at("head.weight_bias"));
  p.ar_tokens = to_matrix<T>(w.at("ar_tokens"), w.config.buffer_size, w.config.d_model);
  return p;
}

}  // namespace artabpfn::reference
