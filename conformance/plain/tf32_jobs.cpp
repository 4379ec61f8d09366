#include "conformance/plain/tf32_jobs.hpp"

#include <stdexcept>

#include "conformance/plain/attention.hpp"

namespace artabpfn::conformance::plain {

Tf32Jobs::Tf32Jobs(const ModelWeights& weights, Arithmetic arithmetic) : Tf32Jobs(weights, Products(arithmetic)) {
  if (precision_of(arithmetic) != tolerance::Precision::kTf32) throw std::logic_error("Tf32Jobs: not a TF32 arithmetic");
}

Tf32Jobs::Tf32Jobs(const ModelWeights& weights, const Products& products)
    : products_(products), p_(reference::ModelParams<float>::from_weights(weights)) {
  auto round_weight = [this](reference::LinearParams<float>& map) {
    map.weight = map.weight.unaryExpr([this](float v) { return products_.operand(v); });
  };
  for (reference::LayerParams<float>& layer : p_.layers)
    for (reference::LinearParams<float>* map : {&layer.feature_v, &layer.feature_out, &layer.q, &layer.k, &layer.v,
                                                &layer.out, &layer.ff_in, &layer.ff_out})
      round_weight(*map);
  round_weight(p_.head_in);
  round_weight(p_.head_out);
}

Tf32Jobs::Matrix Tf32Jobs::linear(const reference::LinearParams<float>& map, const Matrix& x) const {
  Matrix y = products_.times_transposed(x, map.weight);
  if (map.bias.size() > 0) y.rowwise() += map.bias;
  return y;
}

Tf32Jobs::Matrix Tf32Jobs::attention(const Matrix& q, const Matrix& k, const Matrix& v,
                                     const reference::Visibility& visible) const {
  const Eigen::Index dh = q.cols() / p_.config.n_heads;
  Matrix out(q.rows(), q.cols());
  for (int h = 0; h < p_.config.n_heads; ++h) {
    const Eigen::Index c = h * dh;
    out.middleCols(c, dh) =
        attend_rounded(products_, q.middleCols(c, dh), k.middleCols(c, dh), v.middleCols(c, dh), visible).out;
  }
  return out;
}

Tf32Jobs::Matrix Tf32Jobs::feature_stage(const reference::LayerParams<float>& layer, const Matrix& x) const {
  return reference::layer_norm(layer.norm1, x + linear(layer.feature_out, linear(layer.feature_v, x)));
}

Tf32Jobs::Matrix Tf32Jobs::post_attention(const reference::LayerParams<float>& layer, const Matrix& h,
                                          const Matrix& attention) const {
  const Matrix h2 = reference::layer_norm(layer.norm2, h + linear(layer.out, attention));
  return reference::layer_norm(layer.norm3, h2 + linear(layer.ff_out, reference::gelu(linear(layer.ff_in, h2))));
}

reference::DenseForward<float> Tf32Jobs::forward(Matrix rows, const reference::Visibility& visible) const {
  reference::DenseForward<float> result;
  for (const reference::LayerParams<float>& layer : p_.layers) {
    const Matrix h = feature_stage(layer, rows);
    Matrix k = linear(layer.k, h), v = linear(layer.v, h);
    rows = post_attention(layer, h, attention(linear(layer.q, h), k, v, visible));
    result.keys.push_back(std::move(k));
    result.values.push_back(std::move(v));
  }
  result.z = reference::layer_norm(p_.final_norm, rows);
  return result;
}

reference::ContextCache<float> Tf32Jobs::prefill(const reference::TaskInputs& task) const {
  task.validate("prefill");
  reference::DenseForward<float> f = forward(reference::embed_context(p_, task), reference::all_visible);
  return {std::move(f.keys), std::move(f.values)};
}

reference::Vector<float> Tf32Jobs::teacher_forcing_logpdf(const reference::TaskInputs& task,
                                                          const Eigen::VectorXd& y) const {
  task.validate("teacher_forcing");
  const Eigen::Index nc = task.context_size(), nt = task.target_count();
  Matrix rows(nc + 2 * nt, p_.config.d_model);
  rows.topRows(nc) = reference::embed_context(p_, task);
  for (Eigen::Index j = 0; j < nt; ++j) {
    rows.row(nc + j) = reference::embed_buffer(p_, task, j, float(y(j)));
    rows.row(nc + nt + j) = reference::embed_target(p_, task, j);
  }
  const Matrix z = forward(rows, reference::TeacherForcingVisibility{nc, nt}).z.bottomRows(nt);
  const std::vector<reference::Mixture<float>> m = mixture_head(z);
  reference::Vector<float> logpdf(nt);
  for (Eigen::Index t = 0; t < nt; ++t) logpdf(t) = reference::log_density(m[std::size_t(t)], float(y(t)));
  return logpdf;
}

Tf32Jobs::Matrix Tf32Jobs::forced_ar_logpdf(const reference::TaskInputs& task, const reference::InputMatrix& y) const {
  return reference::forced_ar_logpdf_with(*this, task, y);
}

std::vector<reference::Mixture<float>> Tf32Jobs::mixture_head(const Matrix& z) const {
  return reference::mixture_from_rows(p_, linear(p_.head_out, reference::gelu(linear(p_.head_in, z))));
}

Tf32Jobs::Matrix Tf32Jobs::decode_step(const reference::ContextCache<float>& context, reference::BufferCache<float>& buffer,
                                       Matrix rows, bool has_buffer_row) const {
  const Eigen::Index r = has_buffer_row ? 2 : 1;
  const Eigen::Index samples = rows.rows() / r;
  const Eigen::Index t = buffer.length;
  const Eigen::Index visible_buffers = t + (has_buffer_row ? 1 : 0);
  for (std::size_t l = 0; l < p_.layers.size(); ++l) {
    const reference::LayerParams<float>& layer = p_.layers[l];
    const Matrix h = feature_stage(layer, rows);
    const Matrix q = linear(layer.q, h), k = linear(layer.k, h), v = linear(layer.v, h);
    const Eigen::Index nc = context.keys[l].rows();
    Matrix attended(rows.rows(), rows.cols());
    for (Eigen::Index s = 0; s < samples; ++s) {
      if (has_buffer_row) {  // buffer t-1 joins the cache before the attention: both rows see it
        buffer.keys[l][std::size_t(s)].row(t) = k.row(s * r);
        buffer.values[l][std::size_t(s)].row(t) = v.row(s * r);
      }
      Matrix keys(nc + visible_buffers, k.cols()), values(nc + visible_buffers, v.cols());
      keys.topRows(nc) = context.keys[l];
      keys.bottomRows(visible_buffers) = buffer.keys[l][std::size_t(s)].topRows(visible_buffers);
      values.topRows(nc) = context.values[l];
      values.bottomRows(visible_buffers) = buffer.values[l][std::size_t(s)].topRows(visible_buffers);
      attended.middleRows(s * r, r) = attention(q.middleRows(s * r, r), keys, values, reference::all_visible);
    }
    rows = post_attention(layer, h, attended);
  }
  if (has_buffer_row) buffer.length = visible_buffers;
  Matrix targets(samples, rows.cols());
  for (Eigen::Index s = 0; s < samples; ++s) targets.row(s) = rows.row(s * r + r - 1);
  return reference::layer_norm(p_.final_norm, targets);
}

}  // namespace artabpfn::conformance::plain
