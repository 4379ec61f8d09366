#include "conformance/plain/attention.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "artabpfn/error.hpp"

namespace artabpfn::conformance::plain {
namespace {

std::vector<int> ints(const Tensor& t, const std::string& name) {
  if (!t.is_integer()) throw InputError("attention case: '" + name + "' is not an integer tensor");
  return std::vector<int>(t.ints.begin(), t.ints.end());
}

const std::vector<double>& values(const Tensor& t, const std::string& name, const Shape& shape) {
  if (t.is_integer()) throw InputError("attention case: '" + name + "' is an integer tensor");
  if (t.shape != shape)
    throw InputError("attention case: '" + name + "' has shape " + shape_to_string(t.shape) + ", expected " +
                     shape_to_string(shape));
  return t.values;
}

int single(const CaseFile& file, const std::string& name) {
  const std::vector<int> v = ints(file.input(name), name);
  if (v.size() != 1) throw InputError("attention case: '" + name + "' is not a single value");
  return v[0];
}

void round_all(Arithmetic arithmetic, std::vector<double>& data) {
  for (double& x : data) x = double(round_operand(arithmetic, float(x)));
}

}  // namespace

AttentionProblem AttentionProblem::read(const std::string& contract, const CaseFile& file) {
  AttentionProblem p;
  p.context = contract == "shared_context_attention" || contract == "fused_attention";
  p.buffer = contract != "shared_context_attention";
  if (!p.context && !p.buffer) throw InputError("not an attention contract: " + contract);
  const Tensor& q = file.input("q");
  if (q.shape.size() != 4) throw InputError("attention case: q must be [B, H, Lq, Dh], not " + shape_to_string(q.shape));
  p.batch = int(q.shape[0]);
  p.heads = int(q.shape[1]);
  p.queries = int(q.shape[2]);
  p.head_dim = int(q.shape[3]);
  p.q = values(q, "q", q.shape);
  if (p.context) {
    p.context_len = ints(file.input("context_len"), "context_len");
    p.task_of_sample = ints(file.input("task_of_sample"), "task_of_sample");
    const Tensor& k = file.input("context_k");
    if (k.shape.size() != 4) throw InputError("attention case: context_k must be [T, H, Nc_max, Dh]");
    p.nc_max = int(k.shape[2]);
    const Shape shape{std::int64_t(p.context_len.size()), p.heads, p.nc_max, p.head_dim};
    p.context_k = values(k, "context_k", shape);
    p.context_v = values(file.input("context_v"), "context_v", shape);
    if (p.task_of_sample.size() != std::size_t(p.batch)) throw InputError("attention case: task_of_sample is not [B]");
    for (int t : p.task_of_sample)
      if (t < 0 || std::size_t(t) >= p.context_len.size()) throw InputError("attention case: task_of_sample out of range");
    for (int n : p.context_len)
      if (n < 0 || n > p.nc_max) throw InputError("attention case: context_len out of range");
  }
  if (p.buffer) {
    const Tensor& k = file.input("buffer_k");
    if (k.shape.size() != 4) throw InputError("attention case: buffer_k must be [B, H, capacity, Dh]");
    p.capacity = int(k.shape[2]);
    const Shape shape{p.batch, p.heads, p.capacity, p.head_dim};
    p.buffer_k = values(k, "buffer_k", shape);
    p.buffer_v = values(file.input("buffer_v"), "buffer_v", shape);
    p.buffer_len = single(file, "buffer_len");
    p.teacher_forcing = contract == "buffer_attention_teacher_forcing" ||
                        (contract == "fused_attention" && single(file, "teacher_forcing") != 0);
    if (p.buffer_len < 0 || p.buffer_len > p.capacity) throw InputError("attention case: buffer_len out of range");
    if (p.teacher_forcing && p.queries != 2 * p.buffer_len)
      throw InputError("attention case: the teacher-forcing mask needs Lq = 2 buffer_len");
  }
  return p;
}

std::size_t AttentionProblem::q_row(int b, int h, int i) const {
  return ((std::size_t(b) * std::size_t(heads) + std::size_t(h)) * std::size_t(queries) + std::size_t(i)) *
         std::size_t(head_dim);
}

std::size_t AttentionProblem::context_row(int t, int h, int j) const {
  return ((std::size_t(t) * std::size_t(heads) + std::size_t(h)) * std::size_t(nc_max) + std::size_t(j)) *
         std::size_t(head_dim);
}

std::size_t AttentionProblem::buffer_row(int b, int h, int j) const {
  return ((std::size_t(b) * std::size_t(heads) + std::size_t(h)) * std::size_t(capacity) + std::size_t(j)) *
         std::size_t(head_dim);
}

bool AttentionProblem::buffer_visible(Eigen::Index query, Eigen::Index key) const {
  if (!teacher_forcing) return key < buffer_len;
  return query < buffer_len ? key <= query : key < query - buffer_len;  // buffer j sees 0..j, target t sees 0..t-1
}

MergeProblem MergeProblem::read(const CaseFile& file) {
  MergeProblem p;
  const Tensor& out1 = file.input("out1");
  if (out1.shape.size() != 2 || out1.is_integer()) throw InputError("merge case: out1 must be a float [R, Dh] tensor");
  p.rows = int(out1.shape[0]);
  p.head_dim = int(out1.shape[1]);
  p.out1 = out1.values;
  p.out2 = values(file.input("out2"), "out2", out1.shape);
  p.lse1 = values(file.input("lse1"), "lse1", {out1.shape[0]});
  p.lse2 = values(file.input("lse2"), "lse2", {out1.shape[0]});
  return p;
}

reference::AttentionState<float> attend_rounded(const Products& products, const reference::Matrix<float>& q,
                                                const reference::Matrix<float>& k, const reference::Matrix<float>& v,
                                                const reference::Visibility& visible) {
  const Eigen::Index nq = q.rows(), nk = k.rows(), dh = q.cols();
  const reference::Matrix<float> scores = products.times_transposed(q, k, 1.0f / std::sqrt(float(dh)));
  reference::Matrix<float> p = reference::Matrix<float>::Zero(nq, nk);
  reference::Vector<float> denominator = reference::Vector<float>::Zero(nq);
  reference::AttentionState<float> state{reference::Matrix<float>::Zero(nq, dh),
                                         reference::Vector<float>::Constant(nq, -std::numeric_limits<float>::infinity())};
  for (Eigen::Index i = 0; i < nq; ++i) {
    std::vector<Eigen::Index> keys;
    for (Eigen::Index j = 0; j < nk; ++j)
      if (visible(i, j)) keys.push_back(j);
    if (keys.empty()) continue;  // (0, -inf)
    float max_score = scores(i, keys[0]);
    for (Eigen::Index j : keys) max_score = std::max(max_score, scores(i, j));
    for (Eigen::Index j : keys) {
      p(i, j) = std::exp(scores(i, j) - max_score);
      denominator(i) += p(i, j);
    }
    state.lse(i) = max_score + std::log(denominator(i));
  }
  const reference::Matrix<float> weighted = products.times(p, v);
  for (Eigen::Index i = 0; i < nq; ++i) {
    if (denominator(i) == 0.0f) continue;
    for (Eigen::Index d = 0; d < dh; ++d) state.out(i, d) = products.stored(weighted(i, d) / denominator(i));
  }
  return state;
}

AttentionResult plain_attention(Arithmetic arithmetic, AttentionProblem problem) {
  if (arithmetic == Arithmetic::kFloat32)
    return attention_contract<float>(problem, [](const auto& q, const auto& k, const auto& v, const auto& visible) {
      return reference::attend<float>(q, k, v, visible);
    });
  for (std::vector<double>* data : {&problem.q, &problem.context_k, &problem.context_v, &problem.buffer_k, &problem.buffer_v})
    round_all(arithmetic, *data);
  return attention_contract<float>(problem, [arithmetic](const auto& q, const auto& k, const auto& v, const auto& visible) {
    return attend_rounded(Products(arithmetic), q, k, v, visible);
  });
}

AttentionResult plain_merge(Arithmetic arithmetic, MergeProblem problem) {
  for (std::vector<double>* data : {&problem.out1, &problem.out2})
    for (double& x : *data) x = double(round_stored(arithmetic, float(x)));
  AttentionResult r = merge_contract<float>(problem);
  for (double& x : r.out) x = double(round_stored(arithmetic, float(x)));
  return r;
}

}  // namespace artabpfn::conformance::plain
