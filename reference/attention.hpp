#pragma once
// Attention primitives with the kernel contracts (docs/model.md, "Who sees whom", "Attention states"):
//   attend: dense masked softmax attention of one head, returning output and natural-log
//           log-sum-exp per query; a query with no visible key gives (0, -inf).
//   merge:  combines two partial states (o1, lse1), (o2, lse2) over disjoint key sets;
//           two empty parts give (0, -inf), never NaN.
#include <algorithm>
#include <functional>

#include "reference/scalar.hpp"

namespace artabpfn::reference {

template <class T>
struct AttentionState {
  Matrix<T> out;  // [nq, dh]
  Vector<T> lse;  // [nq], natural log, -inf for a query that saw no key
};

// Which keys a query may see: visible(query_index, key_index).
using Visibility = std::function<bool(Eigen::Index, Eigen::Index)>;

inline bool all_visible(Eigen::Index, Eigen::Index) { return true; }

// q [nq, dh], k and v [nk, dh]. Scores are q.k / sqrt(dh).
template <class T>
AttentionState<T> attend(const Matrix<T>& q, const Matrix<T>& k, const Matrix<T>& v,
                         const Visibility& visible = all_visible) {
  using std::exp;
  using std::log;
  using std::sqrt;
  const Eigen::Index nq = q.rows(), nk = k.rows(), dh = q.cols();
  const T inv_sqrt_dh = T(1) / sqrt(T(dh));
  AttentionState<T> state{Matrix<T>::Zero(nq, dh), Vector<T>::Constant(nq, negative_infinity<T>())};
  Vector<T> scores(nk);
  for (Eigen::Index i = 0; i < nq; ++i) {
    T max_score = negative_infinity<T>();
    bool any = false;
    for (Eigen::Index j = 0; j < nk; ++j) {
      if (!visible(i, j)) continue;
      scores(j) = q.row(i).dot(k.row(j)) * inv_sqrt_dh;
      max_score = any ? std::max(max_score, scores(j)) : scores(j);
      any = true;
    }
    if (!any) continue;  // (0, -inf)
    T denominator = T(0);
    for (Eigen::Index j = 0; j < nk; ++j) {
      if (!visible(i, j)) continue;
      const T p = exp(scores(j) - max_score);
      denominator += p;
      state.out.row(i) += p * v.row(j);
    }
    state.out.row(i) /= denominator;
    state.lse(i) = max_score + log(denominator);
  }
  return state;
}

template <class T>
AttentionState<T> merge(const AttentionState<T>& a, const AttentionState<T>& b) {
  using std::exp;
  using std::log;
  const Eigen::Index nq = a.out.rows();
  AttentionState<T> merged{Matrix<T>::Zero(nq, a.out.cols()), Vector<T>::Constant(nq, negative_infinity<T>())};
  for (Eigen::Index i = 0; i < nq; ++i) {
    const T m = std::max(a.lse(i), b.lse(i));
    if (m == negative_infinity<T>()) continue;  // both parts empty
    const T wa = exp(a.lse(i) - m), wb = exp(b.lse(i) - m);  // exp(-inf) = 0 for an empty part
    const T total = wa + wb;
    merged.lse(i) = m + log(total);
    merged.out.row(i) = (wa / total) * a.out.row(i) + (wb / total) * b.out.row(i);
  }
  return merged;
}

}  // namespace artabpfn::reference
