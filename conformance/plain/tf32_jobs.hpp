#pragma once
// The plain TF32 implementations of the model jobs (docs/precisions.md, "tf32"): the reference's
// formulas in float32, with every matrix product computed by one Products object (products.hpp):
// its operands rounded to TF32 as the arithmetic says (to nearest or truncated), or the split
// tf32x3 product. The products are those of each linear map of the layers and the head
// (activations and weights), the scores q.k and the attention output p v. Everything else
// (embeddings, LayerNorm, GELU, softmax, the mixture) is float32, as the reference instantiated
// with float computes it. A jobs object of model_jobs.hpp.
#include <vector>

#include "conformance/plain/arithmetic.hpp"
#include "conformance/plain/products.hpp"
#include "reference/reference.hpp"

namespace artabpfn::conformance::plain {

class Tf32Jobs {
 public:
  using Scalar = float;
  using Matrix = reference::Matrix<float>;

  // arithmetic: kTf32Nearest or kTf32Truncated.
  Tf32Jobs(const ModelWeights& weights, Arithmetic arithmetic);
  // Products of that arithmetic, or Products::tf32x3().
  Tf32Jobs(const ModelWeights& weights, const Products& products);
  // The model's parameters, the linear maps' weights rounded as product operands (kept as they
  // are by the split product).
  const reference::ModelParams<float>& params() const { return p_; }

  reference::ContextCache<float> prefill(const reference::TaskInputs& task) const;
  reference::Vector<float> teacher_forcing_logpdf(const reference::TaskInputs& task, const Eigen::VectorXd& y) const;
  Matrix forced_ar_logpdf(const reference::TaskInputs& task, const reference::InputMatrix& y) const;
  std::vector<reference::Mixture<float>> mixture_head(const Matrix& z) const;
  Matrix decode_step(const reference::ContextCache<float>& context, reference::BufferCache<float>& buffer, Matrix rows,
                     bool has_buffer_row) const;

 private:
  Matrix linear(const reference::LinearParams<float>& map, const Matrix& x) const;
  Matrix attention(const Matrix& q, const Matrix& k, const Matrix& v, const reference::Visibility& visible) const;
  Matrix feature_stage(const reference::LayerParams<float>& layer, const Matrix& x) const;
  Matrix post_attention(const reference::LayerParams<float>& layer, const Matrix& h, const Matrix& attention) const;
  reference::DenseForward<float> forward(Matrix rows, const reference::Visibility& visible) const;

  Products products_;
  reference::ModelParams<float> p_;
};

}  // namespace artabpfn::conformance::plain
