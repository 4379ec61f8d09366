#pragma once
// The plain TF32 implementation of the model jobs (docs/precisions.md, "tf32"): the reference's
// formulas in float32, with the operands of every matrix product rounded to TF32 as the
// arithmetic says (to nearest or truncated): the activations and weights of each linear map of
// the layers and the head, q and k of the scores, the probabilities and v of the attention
// output. Everything else (embeddings, LayerNorm, GELU, softmax, the mixture) is float32, as the
// reference instantiated with float computes it. A jobs object of model_jobs.hpp.
#include <vector>

#include "conformance/plain/arithmetic.hpp"
#include "reference/reference.hpp"

namespace artabpfn::conformance::plain {

class Tf32Jobs {
 public:
  using Scalar = float;
  using Matrix = reference::Matrix<float>;

  // arithmetic: kTf32Nearest or kTf32Truncated.
  Tf32Jobs(const ModelWeights& weights, Arithmetic arithmetic);
  // The model's parameters, the linear maps' weights rounded as product operands.
  const reference::ModelParams<float>& params() const { return p_; }

  reference::ContextCache<float> prefill(const reference::TaskInputs& task) const;
  reference::Vector<float> teacher_forcing_logpdf(const reference::TaskInputs& task, const Eigen::VectorXd& y) const;
  Matrix forced_ar_logpdf(const reference::TaskInputs& task, const reference::InputMatrix& y) const;
  std::vector<reference::Mixture<float>> mixture_head(const Matrix& z) const;
  Matrix decode_step(const reference::ContextCache<float>& context, reference::BufferCache<float>& buffer, Matrix rows,
                     bool has_buffer_row) const;

 private:
  Matrix rounded(const Matrix& x) const;
  Matrix linear(const reference::LinearParams<float>& map, const Matrix& x) const;
  Matrix attention(const Matrix& q, const Matrix& k, const Matrix& v, const reference::Visibility& visible) const;
  Matrix feature_stage(const reference::LayerParams<float>& layer, const Matrix& x) const;
  Matrix post_attention(const reference::LayerParams<float>& layer, const Matrix& h, const Matrix& attention) const;
  reference::DenseForward<float> forward(Matrix rows, const reference::Visibility& visible) const;

  Arithmetic arithmetic_;
  reference::ModelParams<float> p_;
};

}  // namespace artabpfn::conformance::plain
