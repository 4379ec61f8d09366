#include "conformance/plain/tf32_jobs.hpp"

#include <stdexcept>

#include "conformance/plain/attention.hpp"

namespace artabpfn::conformance::plain {
namespace {

// The parameters with the linear maps' weights as product operands.
reference::ModelParams<float> rounded_params(const ModelWeights& weights, const Products& products) {
  reference::ModelParams<float> p = reference::ModelParams<float>::from_weights(weights);
  auto round_weight = [&products](reference::LinearParams<float>& map) {
    map.weight = map.weight.unaryExpr([&products](float v) { return products.operand(v); });
  };
  for (reference::LayerParams<float>& layer : p.layers)
    for (reference::LinearParams<float>* map : {&layer.feature_v, &layer.feature_out, &layer.q, &layer.k, &layer.v,
                                                &layer.out, &layer.ff_in, &layer.ff_out})
      round_weight(*map);
  round_weight(p.head_in);
  round_weight(p.head_out);
  return p;
}

}  // namespace

reference::Matrix<float> PlainProducts::linear(const reference::LinearParams<float>& map,
                                               const reference::Matrix<float>& x) const {
  reference::Matrix<float> y = products_.times_transposed(x, map.weight);
  if (map.bias.size() > 0) y.rowwise() += map.bias;
  return y;
}

reference::Matrix<float> PlainProducts::attention(int n_heads, const reference::Matrix<float>& q,
                                                  const reference::Matrix<float>& k, const reference::Matrix<float>& v,
                                                  const reference::Visibility& visible) const {
  const Eigen::Index dh = q.cols() / n_heads;
  reference::Matrix<float> out(q.rows(), q.cols());
  for (int h = 0; h < n_heads; ++h) {
    const Eigen::Index c = h * dh;
    out.middleCols(c, dh) =
        attend_rounded(products_, q.middleCols(c, dh), k.middleCols(c, dh), v.middleCols(c, dh), visible).out;
  }
  return out;
}

Tf32Jobs::Tf32Jobs(const ModelWeights& weights, Arithmetic arithmetic) : Tf32Jobs(weights, Products(arithmetic)) {
  if (precision_of(arithmetic) != tolerance::Precision::kTf32) throw std::logic_error("Tf32Jobs: not a TF32 arithmetic");
}

Tf32Jobs::Tf32Jobs(const ModelWeights& weights, const Products& products)
    : decoder_{rounded_params(weights, products), PlainProducts(products)} {}

reference::Vector<float> Tf32Jobs::teacher_forcing_logpdf(const reference::TaskInputs& task,
                                                          const Eigen::VectorXd& y) const {
  return reference::teacher_forcing(decoder_.p, task, y, decoder_.products).logpdf;
}

Tf32Jobs::Matrix Tf32Jobs::forced_ar_logpdf(const reference::TaskInputs& task, const reference::InputMatrix& y) const {
  return reference::forced_ar_logpdf_with(*this, task, y);
}

}  // namespace artabpfn::conformance::plain
