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

// A Products object as the reference's forward pass multiplies (reference/products.hpp): each
// linear map's x W^T a product, then + b in float32; each head's attention attend_rounded.
class PlainProducts {
 public:
  explicit PlainProducts(const Products& products) : products_(products) {}
  reference::Matrix<float> linear(const reference::LinearParams<float>& map, const reference::Matrix<float>& x) const;
  reference::Matrix<float> attention(int n_heads, const reference::Matrix<float>& q, const reference::Matrix<float>& k,
                                     const reference::Matrix<float>& v, const reference::Visibility& visible) const;

 private:
  Products products_;
};

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
  const reference::ModelParams<float>& params() const { return decoder_.p; }

  reference::ContextCache<float> prefill(const reference::TaskInputs& task) const { return decoder_.prefill(task); }
  reference::Vector<float> teacher_forcing_logpdf(const reference::TaskInputs& task, const Eigen::VectorXd& y) const;
  Matrix forced_ar_logpdf(const reference::TaskInputs& task, const reference::InputMatrix& y) const;
  std::vector<reference::Mixture<float>> mixture_head(const Matrix& z) const { return decoder_.mixture_head(z); }
  Matrix decode_step(const reference::ContextCache<float>& context, reference::BufferCache<float>& buffer, Matrix rows,
                     bool has_buffer_row) const {
    return decoder_.decode_step(context, buffer, std::move(rows), has_buffer_row);
  }

 private:
  // The reference's forward pass over the rounded parameters, multiplying as the products say.
  reference::ReferenceDecoder<float, reference::ModelParams<float>, PlainProducts> decoder_;
};

}  // namespace artabpfn::conformance::plain
