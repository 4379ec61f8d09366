#pragma once
// How the forward pass multiplies (docs/model.md, "One layer"): every linear map and the
// multi-head attention go through a products object, so that one definition of the layer stack
// and the head (transformer.hpp, mixture_head.hpp, model.hpp) serves the reference and the plain
// implementations of other arithmetics (conformance/plain/tf32_jobs.hpp: TF32 operands, the split
// product). A products object has
//   linear(map, x)                          x W^T + b
//   attention(n_heads, q, k, v, visible)    each head's attention over its Dh columns, side by side
// ExactProducts is the reference's own, in T.
#include "reference/attention.hpp"
#include "reference/layer_ops.hpp"

namespace artabpfn::reference {

// Head i takes the contiguous components [i*Dh, (i+1)*Dh); outputs are concatenated the same way.
template <class T>
Matrix<T> multi_head_attention(int n_heads, const Matrix<T>& q, const Matrix<T>& k, const Matrix<T>& v,
                               const Visibility& visible = all_visible) {
  const Eigen::Index dh = q.cols() / n_heads;
  Matrix<T> out(q.rows(), q.cols());
  for (int h = 0; h < n_heads; ++h) {
    const Eigen::Index c = h * dh;
    const AttentionState<T> s = attend<T>(q.middleCols(c, dh), k.middleCols(c, dh), v.middleCols(c, dh), visible);
    out.middleCols(c, dh) = s.out;
  }
  return out;
}

template <class T>
struct ExactProducts {
  Matrix<T> linear(const LinearParams<T>& map, const Matrix<T>& x) const { return apply_linear(map, x); }
  Matrix<T> attention(int n_heads, const Matrix<T>& q, const Matrix<T>& k, const Matrix<T>& v,
                      const Visibility& visible) const {
    return multi_head_attention(n_heads, q, k, v, visible);
  }
};

}  // namespace artabpfn::reference
