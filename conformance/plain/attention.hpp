#pragma once
// The attention contracts and the merge as computations on a case's tensors: the traversal of
// the contract layouts (docs/conformance_vectors.md, "Attention contracts") shared by the double
// reference (the expected values, vectors generation) and the plain implementations of every
// arithmetic (arithmetic.hpp), which set the tolerances.
#include <string>
#include <vector>

#include "conformance/format.hpp"
#include "conformance/plain/arithmetic.hpp"
#include "conformance/plain/products.hpp"
#include "reference/attention.hpp"

namespace artabpfn::conformance::plain {

// The inputs of a case of shared_context_attention, buffer_attention_decode,
// buffer_attention_teacher_forcing or fused_attention (values as double; they are floats).
struct AttentionProblem {
  bool context = false, buffer = false, teacher_forcing = false;
  int batch = 0, heads = 0, queries = 0, head_dim = 0;
  int nc_max = 0;
  std::vector<int> context_len, task_of_sample;  // [T], [B]
  int capacity = 0, buffer_len = 0;
  std::vector<double> q, context_k, context_v, buffer_k, buffer_v;

  // Throws InputError for missing tensors or sizes that contradict each other.
  static AttentionProblem read(const std::string& contract, const CaseFile& file);

  std::size_t q_row(int b, int h, int i) const;          // first element of a query row
  std::size_t context_row(int t, int h, int j) const;    // of a context key row
  std::size_t buffer_row(int b, int h, int j) const;     // of a buffer key row
  bool buffer_visible(Eigen::Index query, Eigen::Index key) const;  // the buffer mask
};

// Outputs of an attention contract or the merge: out [B, H, Lq, Dh] (merge: [R, Dh]), lse.
struct AttentionResult {
  std::vector<double> out, lse;
};

namespace detail {

template <class T>
reference::Matrix<T> rows_of(const std::vector<double>& data, std::size_t first, int rows, int cols) {
  reference::Matrix<T> m(rows, cols);
  for (int r = 0; r < rows; ++r)
    for (int k = 0; k < cols; ++k) m(r, k) = T(data[first + std::size_t(r) * std::size_t(cols) + std::size_t(k)]);
  return m;
}

}  // namespace detail

// The contract on `p` in scalar T, each (sample, head) by `attend(q, k, v, visible)` with the
// contract's keys (the task's context rows, then the sample's buffer rows) and mask.
template <class T, class Attend>
AttentionResult attention_contract(const AttentionProblem& p, Attend&& attend) {
  AttentionResult r;
  r.out.assign(p.q.size(), 0.0);
  r.lse.assign(p.q.size() / std::size_t(p.head_dim), 0.0);
  const auto buffer_mask = [&p](Eigen::Index i, Eigen::Index j) { return p.buffer_visible(i, j); };
  for (int b = 0; b < p.batch; ++b) {
    const int t = p.context ? p.task_of_sample[std::size_t(b)] : 0;
    const int nc = p.context ? p.context_len[std::size_t(t)] : 0;
    const int nb = p.buffer ? p.buffer_len : 0;
    for (int h = 0; h < p.heads; ++h) {
      const reference::Matrix<T> q = detail::rows_of<T>(p.q, p.q_row(b, h, 0), p.queries, p.head_dim);
      reference::Matrix<T> k(nc + nb, p.head_dim), v(nc + nb, p.head_dim);
      if (nc > 0) {
        k.topRows(nc) = detail::rows_of<T>(p.context_k, p.context_row(t, h, 0), nc, p.head_dim);
        v.topRows(nc) = detail::rows_of<T>(p.context_v, p.context_row(t, h, 0), nc, p.head_dim);
      }
      if (nb > 0) {
        k.bottomRows(nb) = detail::rows_of<T>(p.buffer_k, p.buffer_row(b, h, 0), nb, p.head_dim);
        v.bottomRows(nb) = detail::rows_of<T>(p.buffer_v, p.buffer_row(b, h, 0), nb, p.head_dim);
      }
      reference::AttentionState<T> s;
      if (!p.buffer) s = attend(q, k, v, reference::all_visible);
      else if (!p.context) s = attend(q, k, v, buffer_mask);
      else
        s = attend(q, k, v, [&p, nc](Eigen::Index i, Eigen::Index j) { return j < nc || p.buffer_visible(i, j - nc); });
      for (int i = 0; i < p.queries; ++i) {
        const std::size_t row = p.q_row(b, h, i);
        for (int d = 0; d < p.head_dim; ++d) r.out[row + std::size_t(d)] = double(s.out(i, d));
        r.lse[row / std::size_t(p.head_dim)] = double(s.lse(i));
      }
    }
  }
  return r;
}

// The inputs of a merge_states case: out1, out2 [R, Dh], lse1, lse2 [R].
struct MergeProblem {
  int rows = 0, head_dim = 0;
  std::vector<double> out1, lse1, out2, lse2;

  static MergeProblem read(const CaseFile& file);
};

// reference::merge in scalar T.
template <class T>
AttentionResult merge_contract(const MergeProblem& p) {
  const auto n = Eigen::Index(p.rows), dh = Eigen::Index(p.head_dim);
  reference::AttentionState<T> a{detail::rows_of<T>(p.out1, 0, p.rows, p.head_dim), reference::Vector<T>(n)};
  reference::AttentionState<T> b{detail::rows_of<T>(p.out2, 0, p.rows, p.head_dim), reference::Vector<T>(n)};
  for (Eigen::Index r = 0; r < n; ++r) {
    a.lse(r) = T(p.lse1[std::size_t(r)]);
    b.lse(r) = T(p.lse2[std::size_t(r)]);
  }
  const reference::AttentionState<T> m = reference::merge<T>(a, b);
  AttentionResult result;
  result.out.resize(std::size_t(n * dh));
  result.lse.resize(std::size_t(n));
  for (Eigen::Index r = 0; r < n; ++r) {
    result.lse[std::size_t(r)] = double(m.lse(r));
    for (Eigen::Index d = 0; d < dh; ++d) result.out[std::size_t(r * dh + d)] = double(m.out(r, d));
  }
  return result;
}

// One head's attention as the rounding arithmetics compute it (docs/precisions.md): the scores
// q k^T / sqrt(Dh) a product of `products`; per query the probabilities exp(s - max) over its
// visible keys, summed in float32 for the denominator and multiplied with v by `products`; the
// output divided in float32 and stored as the arithmetic stores it (bf16, fp16: rounded to the
// format); the LSE in float32. A query with no visible key: (0, -inf).
reference::AttentionState<float> attend_rounded(const Products& products, const reference::Matrix<float>& q,
                                                const reference::Matrix<float>& k, const reference::Matrix<float>& v,
                                                const reference::Visibility& visible);

// The plain implementation in `arithmetic`: float32 is reference::attend<float> on the inputs; the
// others round the inputs as product operands and use attend_rounded.
AttentionResult plain_attention(Arithmetic arithmetic, AttentionProblem problem);
// float32 and tf32 (no product in the merge): reference::merge<float>; bf16 and fp16 round out1
// and out2 to the format (the LSEs stay float32) and round the merged output.
AttentionResult plain_merge(Arithmetic arithmetic, MergeProblem problem);

}  // namespace artabpfn::conformance::plain
