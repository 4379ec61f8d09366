#include "contract_inputs.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "artabpfn/error.hpp"
#include "reference/attention.hpp"

namespace artabpfn::python {
namespace {

using reference::Matrix;

// The case's sizes, checked against every tensor's shape.
struct Layout {
  bool context = false, buffer = false, teacher_forcing = false;
  std::int64_t batch = 0, heads = 0, queries = 0, head_dim = 0, tasks = 0, nc_max = 0, capacity = 0, length = 0;
  std::vector<std::int64_t> context_len, task_of_sample;
};

void expect_shape(const std::string& contract, const std::string& name, const Shape& got, const Shape& want,
                  const std::string& layout) {
  if (got != want)
    throw InputError(fmt::format("{}: '{}' has shape {}, expected {} = {}", contract, name, shape_to_string(got),
                                 shape_to_string(want), layout));
}

Layout layout_of(const std::string& contract, const ContractInputs& in) {
  Layout l;
  l.context = contract == "shared_context_attention" || contract == "fused_attention";
  l.buffer = contract != "shared_context_attention";
  const Shape& q = in.value("q").shape;
  if (q.size() != 4)
    throw InputError(fmt::format("{}: 'q' has shape {}, expected [B, H, Lq, Dh]", contract, shape_to_string(q)));
  l.batch = q[0], l.heads = q[1], l.queries = q[2], l.head_dim = q[3];
  if (l.head_dim == 0) throw InputError(fmt::format("{}: 'q' has shape {}: Dh is 0", contract, shape_to_string(q)));
  if (l.context) {
    const Shape& k = in.value("context_k").shape;
    if (k.size() != 4)
      throw InputError(
          fmt::format("{}: 'context_k' has shape {}, expected [T, H, Nc_max, Dh]", contract, shape_to_string(k)));
    l.tasks = k[0], l.nc_max = k[2];
    const Shape want{l.tasks, l.heads, l.nc_max, l.head_dim};
    expect_shape(contract, "context_k", k, want, "[T, H, Nc_max, Dh]");
    expect_shape(contract, "context_v", in.value("context_v").shape, want, "[T, H, Nc_max, Dh]");
    l.context_len = in.integer("context_len");
    l.task_of_sample = in.integer("task_of_sample");
    if (std::int64_t(l.context_len.size()) != l.tasks)
      throw InputError(
          fmt::format("{}: 'context_len' has {} values for {} tasks", contract, l.context_len.size(), l.tasks));
    for (std::int64_t n : l.context_len)
      if (n < 0 || n > l.nc_max)
        throw InputError(fmt::format("{}: 'context_len' {} is outside [0, Nc_max = {}]", contract, n, l.nc_max));
    if (std::int64_t(l.task_of_sample.size()) != l.batch)
      throw InputError(
          fmt::format("{}: 'task_of_sample' has {} values for B = {}", contract, l.task_of_sample.size(), l.batch));
    for (std::int64_t t : l.task_of_sample)
      if (t < 0 || t >= l.tasks)
        throw InputError(fmt::format("{}: 'task_of_sample' {} is not a task (T = {})", contract, t, l.tasks));
  }
  if (l.buffer) {
    const Shape& k = in.value("buffer_k").shape;
    if (k.size() != 4)
      throw InputError(
          fmt::format("{}: 'buffer_k' has shape {}, expected [B, H, C, Dh]", contract, shape_to_string(k)));
    l.capacity = k[2];
    const Shape want{l.batch, l.heads, l.capacity, l.head_dim};
    expect_shape(contract, "buffer_k", k, want, "[B, H, C, Dh]");
    expect_shape(contract, "buffer_v", in.value("buffer_v").shape, want, "[B, H, C, Dh]");
    const std::vector<std::int64_t>& len = in.integer("buffer_len");
    if (len.size() != 1) throw InputError(fmt::format("{}: 'buffer_len' must hold one value", contract));
    l.length = len[0];
    if (l.length < 0 || l.length > l.capacity)
      throw InputError(fmt::format("{}: 'buffer_len' {} is outside [0, C = {}]", contract, l.length, l.capacity));
    l.teacher_forcing = contract == "buffer_attention_teacher_forcing" ||
                        (contract == "fused_attention" && in.integer("teacher_forcing").at(0) != 0);
    if (l.teacher_forcing && l.queries != 2 * l.length)
      throw InputError(
          fmt::format("{}: teacher forcing needs Lq = 2 x buffer_len (buffer rows, then target rows): "
                      "Lq is {}, buffer_len {}",
                      contract, l.queries, l.length));
  }
  return l;
}

// The buffer keys query i sees: decode, the first `length`; teacher forcing, rows [buffers |
// targets] where buffer row i sees buffers 0..i and target row i sees buffers 0..i-1.
bool buffer_visible(const Layout& l, Eigen::Index i, Eigen::Index j) {
  if (!l.teacher_forcing) return j < l.length;
  return i < l.length ? j <= i : j < i - l.length;
}

// `rows` rows of `cols` values starting at element `first`.
template <class T>
Matrix<T> rows_at(const HostTensor<double>& t, std::int64_t first, std::int64_t rows, std::int64_t cols) {
  Matrix<T> m(rows, cols);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) m(r, c) = T(t.data[std::size_t(first + r * cols + c)]);
  return m;
}

// For each (sample, head): q rows, keys and values (context rows, then buffer rows) and who sees whom.
template <class T, class Body>
void for_each_head(const Layout& l, const ContractInputs& in, Body&& body) {
  const std::int64_t dh = l.head_dim;
  for (std::int64_t b = 0; b < l.batch; ++b) {
    const std::int64_t task = l.context ? l.task_of_sample[std::size_t(b)] : 0;
    const std::int64_t nc = l.context ? l.context_len[std::size_t(task)] : 0, nb = l.buffer ? l.length : 0;
    for (std::int64_t h = 0; h < l.heads; ++h) {
      const std::int64_t q_first = (b * l.heads + h) * l.queries * dh;
      Matrix<T> k(nc + nb, dh), v(nc + nb, dh);
      if (nc > 0) {
        const std::int64_t first = (task * l.heads + h) * l.nc_max * dh;
        k.topRows(nc) = rows_at<T>(in.value("context_k"), first, nc, dh);
        v.topRows(nc) = rows_at<T>(in.value("context_v"), first, nc, dh);
      }
      if (nb > 0) {
        const std::int64_t first = (b * l.heads + h) * l.capacity * dh;
        k.bottomRows(nb) = rows_at<T>(in.value("buffer_k"), first, nb, dh);
        v.bottomRows(nb) = rows_at<T>(in.value("buffer_v"), first, nb, dh);
      }
      const reference::Visibility visible = [&l, nc](Eigen::Index i, Eigen::Index j) {
        return j < nc || buffer_visible(l, i, j - nc);
      };
      body(q_first, rows_at<T>(in.value("q"), q_first, l.queries, dh), k, v, visible);
    }
  }
}

template <class T>
ContractOutputs merge_contract(const ContractInputs& in) {
  const HostTensor<double>&o1 = in.value("out1"), &o2 = in.value("out2"), &l1 = in.value("lse1"),
        &l2 = in.value("lse2");
  if (o1.rank() != 2)
    throw InputError(fmt::format("merge_states: 'out1' has shape {}, expected [N, Dh]", shape_to_string(o1.shape)));
  const std::int64_t n = o1.dim(0), dh = o1.dim(1);
  expect_shape("merge_states", "out2", o2.shape, o1.shape, "[N, Dh]");
  expect_shape("merge_states", "lse1", l1.shape, {n}, "[N]");
  expect_shape("merge_states", "lse2", l2.shape, {n}, "[N]");
  const auto state = [n, dh](const HostTensor<double>& out, const HostTensor<double>& lse) {
    reference::AttentionState<T> s{rows_at<T>(out, 0, n, dh), reference::Vector<T>(n)};
    for (std::int64_t i = 0; i < n; ++i) s.lse(i) = T(lse.data[std::size_t(i)]);
    return s;
  };
  const reference::AttentionState<T> m = reference::merge<T>(state(o1, l1), state(o2, l2));
  ContractOutputs out{{"out", HostTensor<double>({n, dh})}, {"lse", HostTensor<double>({n})}};
  for (std::int64_t i = 0; i < n; ++i) {
    out["lse"].data[std::size_t(i)] = double(m.lse(i));
    for (std::int64_t d = 0; d < dh; ++d) out["out"].data[std::size_t(i * dh + d)] = double(m.out(i, d));
  }
  return out;
}

}  // namespace

const HostTensor<double>& ContractInputs::value(const std::string& name) const {
  const auto it = values.find(name);
  if (it == values.end()) throw InputError(fmt::format("input '{}' is missing", name));
  return it->second;
}

const std::vector<std::int64_t>& ContractInputs::integer(const std::string& name) const {
  const auto it = integers.find(name);
  if (it == integers.end()) throw InputError(fmt::format("input '{}' is missing", name));
  return it->second;
}

const std::vector<std::string>& attention_contracts() {
  static const std::vector<std::string> names = {"shared_context_attention", "buffer_attention_decode",
                                                 "buffer_attention_teacher_forcing", "fused_attention", "merge_states"};
  return names;
}

template <class T>
ContractOutputs attention_contract(const std::string& contract, const ContractInputs& in) {
  const auto& names = attention_contracts();
  if (std::find(names.begin(), names.end(), contract) == names.end())
    throw InputError(fmt::format("'{}' is not an attention contract; these are: {}", contract, fmt::join(names, ", ")));
  if (contract == "merge_states") return merge_contract<T>(in);
  const Layout l = layout_of(contract, in);
  ContractOutputs out{{"out", HostTensor<double>({l.batch, l.heads, l.queries, l.head_dim})},
                      {"lse", HostTensor<double>({l.batch, l.heads, l.queries})}};
  for_each_head<T>(l, in,
                   [&](std::int64_t q_first, const Matrix<T>& q, const Matrix<T>& k, const Matrix<T>& v,
                       const reference::Visibility& visible) {
                     const reference::AttentionState<T> s = reference::attend<T>(q, k, v, visible);
                     for (std::int64_t i = 0; i < l.queries; ++i) {
                       out["lse"].data[std::size_t(q_first / l.head_dim + i)] = double(s.lse(i));
                       for (std::int64_t d = 0; d < l.head_dim; ++d)
                         out["out"].data[std::size_t(q_first + i * l.head_dim + d)] = double(s.out(i, d));
                     }
                   });
  return out;
}

template ContractOutputs attention_contract<double>(const std::string&, const ContractInputs&);
template ContractOutputs attention_contract<float>(const std::string&, const ContractInputs&);

double largest_score(const std::string& contract, const ContractInputs& in) {
  if (contract == "merge_states") return 0.0;
  const Layout l = layout_of(contract, in);
  double largest = 0.0;
  for_each_head<double>(l, in,
                        [&](std::int64_t, const Matrix<double>& q, const Matrix<double>& k, const Matrix<double>&,
                            const reference::Visibility& visible) {
                          const Matrix<double> scores = q * k.transpose() / std::sqrt(double(l.head_dim));
                          for (Eigen::Index i = 0; i < scores.rows(); ++i)
                            for (Eigen::Index j = 0; j < scores.cols(); ++j)
                              if (visible(i, j)) largest = std::max(largest, std::abs(scores(i, j)));
                        });
  return largest;
}

}  // namespace artabpfn::python
