// Attention and merge cases: inputs and their reference outputs through reference::attend and
// reference::merge, in double (the expected values) and in float (the tolerance baseline).
#include <algorithm>
#include <limits>
#include <stdexcept>

#include "conformance/generators.hpp"
#include "reference/attention.hpp"

namespace artabpfn::conformance::detail {
namespace {

using reference::Matrix;

struct AttentionInputs {
  std::vector<double> q, context_k, context_v, buffer_k, buffer_v;  // float values
  int nc_max = 0;
};

std::size_t q_index(const AttentionCase& c, int b, int h, int i) {
  return ((std::size_t(b) * std::size_t(c.heads) + std::size_t(h)) * std::size_t(c.queries) + std::size_t(i)) *
         std::size_t(c.head_dim);
}
std::size_t context_index(const AttentionCase& c, int nc_max, int t, int h, int j) {
  return ((std::size_t(t) * std::size_t(c.heads) + std::size_t(h)) * std::size_t(nc_max) + std::size_t(j)) *
         std::size_t(c.head_dim);
}
std::size_t buffer_index(const AttentionCase& c, int b, int h, int j) {
  return ((std::size_t(b) * std::size_t(c.heads) + std::size_t(h)) * std::size_t(c.capacity) + std::size_t(j)) *
         std::size_t(c.head_dim);
}
int task_of(const AttentionCase& c, int b) { return c.task_of_sample.empty() ? 0 : c.task_of_sample[std::size_t(b)]; }

bool buffer_visible(const AttentionCase& c, Eigen::Index i, Eigen::Index j) {
  if (!c.teacher_forcing) return j < c.length;
  return i < c.length ? j <= i : j < i - c.length;
}

AttentionInputs draw_inputs(const AttentionCase& c, Rng& rng) {
  AttentionInputs in;
  in.nc_max = c.context_len.empty() ? 0 : *std::max_element(c.context_len.begin(), c.context_len.end());
  const std::size_t T = c.context_len.size(), H = std::size_t(c.heads), Dh = std::size_t(c.head_dim);
  in.q.resize(std::size_t(c.batch) * H * std::size_t(c.queries) * Dh);
  for (double& v : in.q) v = rng.normal_float();
  in.context_k.assign(T * H * std::size_t(in.nc_max) * Dh, 0.0);
  in.context_v = in.context_k;
  for (std::size_t t = 0; t < T; ++t)
    for (int h = 0; h < c.heads; ++h)
      for (int j = 0; j < c.context_len[t]; ++j)
        for (std::size_t d = 0; d < Dh; ++d) {
          const std::size_t e = context_index(c, in.nc_max, int(t), h, j) + d;
          in.context_k[e] = rng.normal_float();
          in.context_v[e] = rng.normal_float();
        }
  in.buffer_k.resize(std::size_t(c.batch) * H * std::size_t(c.capacity) * Dh);
  in.buffer_v.resize(in.buffer_k.size());
  for (std::size_t e = 0; e < in.buffer_k.size(); ++e) {
    in.buffer_k[e] = rng.normal_float();
    in.buffer_v[e] = rng.normal_float();
  }
  if (c.values == ScoreValues::kNormal) return in;
  // One source dominates: queries u + 1e-3 n, dominant keys c u + n with c = 1e3 sqrt(Dh)
  // (1 + 2e-3 z), so its scores are ~1e3 above the other source's (as the GPU properties do).
  for (int h = 0; h < c.heads; ++h) {
    std::vector<double> u(Dh);
    double norm = 0;
    for (double& x : u) {
      x = rng.normal();
      norm += x * x;
    }
    for (double& x : u) x /= std::sqrt(norm);
    for (int b = 0; b < c.batch; ++b)
      for (int i = 0; i < c.queries; ++i)
        for (std::size_t d = 0; d < Dh; ++d) in.q[q_index(c, b, h, i) + d] = float(u[d] + 1e-3 * rng.normal());
    const double big = 1000.0 * std::sqrt(double(Dh));
    auto dominant = [&](std::vector<double>& keys, std::size_t row) {
      const double scale = big * (1.0 + 2e-3 * rng.normal());
      for (std::size_t d = 0; d < Dh; ++d) keys[row + d] = float(scale * u[d] + rng.normal());
    };
    if (c.values == ScoreValues::kContextDominates) {
      for (std::size_t t = 0; t < T; ++t)
        for (int j = 0; j < c.context_len[t]; ++j) dominant(in.context_k, context_index(c, in.nc_max, int(t), h, j));
    } else {
      for (int b = 0; b < c.batch; ++b)
        for (int j = 0; j < c.capacity; ++j) dominant(in.buffer_k, buffer_index(c, b, h, j));
    }
  }
  return in;
}

template <class T>
Matrix<T> rows_of(const std::vector<double>& data, std::size_t first, int rows, int cols) {
  Matrix<T> m(rows, cols);
  for (int r = 0; r < rows; ++r)
    for (int k = 0; k < cols; ++k) m(r, k) = T(data[first + std::size_t(r) * std::size_t(cols) + std::size_t(k)]);
  return m;
}

// out [B, H, Lq, Dh] and lse [B, H, Lq] of the case's contract in precision T.
template <class T>
void attention_reference(const AttentionCase& c, const AttentionInputs& in, std::vector<double>& out,
                         std::vector<double>& lse) {
  out.assign(in.q.size(), 0.0);
  lse.assign(in.q.size() / std::size_t(c.head_dim), 0.0);
  const bool context = c.contract == "shared_context_attention" || c.contract == "fused_attention";
  const bool buffer = c.contract != "shared_context_attention";
  const auto buffer_vis = [&c](Eigen::Index i, Eigen::Index j) { return buffer_visible(c, i, j); };
  for (int b = 0; b < c.batch; ++b) {
    const int t = task_of(c, b);
    const int nc = context ? c.context_len[std::size_t(t)] : 0;
    const int nb = buffer ? c.length : 0;
    for (int h = 0; h < c.heads; ++h) {
      const Matrix<T> q = rows_of<T>(in.q, q_index(c, b, h, 0), c.queries, c.head_dim);
      Matrix<T> k(nc + nb, c.head_dim), v(nc + nb, c.head_dim);
      if (nc > 0) {
        k.topRows(nc) = rows_of<T>(in.context_k, context_index(c, in.nc_max, t, h, 0), nc, c.head_dim);
        v.topRows(nc) = rows_of<T>(in.context_v, context_index(c, in.nc_max, t, h, 0), nc, c.head_dim);
      }
      if (nb > 0) {
        k.bottomRows(nb) = rows_of<T>(in.buffer_k, buffer_index(c, b, h, 0), nb, c.head_dim);
        v.bottomRows(nb) = rows_of<T>(in.buffer_v, buffer_index(c, b, h, 0), nb, c.head_dim);
      }
      reference::AttentionState<T> s;
      if (!buffer) s = reference::attend<T>(q, k, v);
      else if (!context) s = reference::attend<T>(q, k, v, buffer_vis);
      else
        s = reference::attend<T>(q, k, v, [&c, nc](Eigen::Index i, Eigen::Index j) {
          return j < nc || buffer_visible(c, i, j - nc);
        });
      for (int i = 0; i < c.queries; ++i) {
        const std::size_t row = q_index(c, b, h, i);
        for (int d = 0; d < c.head_dim; ++d) out[row + std::size_t(d)] = double(s.out(i, d));
        lse[row / std::size_t(c.head_dim)] = double(s.lse(i));
      }
    }
  }
}

Shape dims(std::initializer_list<int> d) { return Shape(d.begin(), d.end()); }

}  // namespace

Generated generate_attention(const AttentionCase& c, std::uint64_t seed) {
  if (c.contract == "buffer_attention_teacher_forcing" || (c.contract == "fused_attention" && c.teacher_forcing)) {
    if (c.queries != 2 * c.length) throw std::logic_error("teacher forcing needs queries == 2 * length");
  }
  Rng rng(seed);
  const AttentionInputs in = draw_inputs(c, rng);
  const int T = int(c.context_len.size());
  Generated g;
  g.inputs.emplace_back("q", Tensor::f32(dims({c.batch, c.heads, c.queries, c.head_dim}), in.q));
  const bool context = c.contract == "shared_context_attention" || c.contract == "fused_attention";
  const bool buffer = c.contract != "shared_context_attention";
  if (context) {
    g.inputs.emplace_back("context_k", Tensor::f32(dims({T, c.heads, in.nc_max, c.head_dim}), in.context_k));
    g.inputs.emplace_back("context_v", Tensor::f32(dims({T, c.heads, in.nc_max, c.head_dim}), in.context_v));
    g.inputs.emplace_back("context_len",
                          Tensor::i64(dims({T}), std::vector<std::int64_t>(c.context_len.begin(), c.context_len.end())));
    std::vector<std::int64_t> tasks(static_cast<std::size_t>(c.batch));
    for (int b = 0; b < c.batch; ++b) tasks[std::size_t(b)] = task_of(c, b);
    g.inputs.emplace_back("task_of_sample", Tensor::i64(dims({c.batch}), tasks));
  }
  if (buffer) {
    g.inputs.emplace_back("buffer_k", Tensor::f32(dims({c.batch, c.heads, c.capacity, c.head_dim}), in.buffer_k));
    g.inputs.emplace_back("buffer_v", Tensor::f32(dims({c.batch, c.heads, c.capacity, c.head_dim}), in.buffer_v));
    g.inputs.emplace_back("buffer_len", Tensor::i64({1}, {c.length}));
  }
  if (c.contract == "fused_attention") g.inputs.emplace_back("teacher_forcing", Tensor::i64({1}, {c.teacher_forcing ? 1 : 0}));

  std::vector<double> out, lse;
  attention_reference<double>(c, in, out, lse);
  const Shape out_shape = dims({c.batch, c.heads, c.queries, c.head_dim});
  const Shape lse_shape = dims({c.batch, c.heads, c.queries});
  g.expected.emplace_back("out", Tensor::f64(out_shape, out));
  g.expected.emplace_back("lse", Tensor::f64(lse_shape, lse));
  attention_reference<float>(c, in, out, lse);
  g.float32["out"] = Tensor::f64(out_shape, out);
  g.float32["lse"] = Tensor::f64(lse_shape, lse);
  return g;
}

Generated generate_merge(const MergeCase& c, std::uint64_t seed) {
  Rng rng(seed);
  const std::size_t rows = std::size_t(c.rows), dh = std::size_t(c.head_dim);
  std::vector<double> out1(rows * dh), out2(rows * dh), lse1(rows), lse2(rows);
  for (double& v : out1) v = rng.normal_float();
  for (double& v : out2) v = rng.normal_float();
  const double inf = std::numeric_limits<double>::infinity();
  auto draw_lse = [&]() -> double {
    const double u = rng.uniform();
    if (u < c.empty_fraction) return -inf;
    if (u < c.empty_fraction + 0.1) return rng.uniform() < 0.5 ? c.lse_scale : -c.lse_scale;
    return double(float(c.lse_scale * rng.normal()));
  };
  for (std::size_t r = 0; r < rows; ++r) {
    lse1[r] = draw_lse();
    lse2[r] = draw_lse();
    if (c.gap > 0 && std::isfinite(lse1[r])) {
      const double sign = rng.uniform() < 0.5 ? -1.0 : 1.0;
      lse2[r] = double(float(lse1[r] + sign * c.gap * (1.0 + 1e-3 * rng.normal())));
    }
    for (std::size_t d = 0; d < dh; ++d) {  // the contract: an empty part's output is zero
      if (std::isinf(lse1[r])) out1[r * dh + d] = 0.0;
      if (std::isinf(lse2[r])) out2[r * dh + d] = 0.0;
    }
  }
  Generated g;
  const Shape o_shape{std::int64_t(rows), std::int64_t(dh)}, l_shape{std::int64_t(rows)};
  g.inputs.emplace_back("out1", Tensor::f32(o_shape, out1));
  g.inputs.emplace_back("lse1", Tensor::f32(l_shape, lse1));
  g.inputs.emplace_back("out2", Tensor::f32(o_shape, out2));
  g.inputs.emplace_back("lse2", Tensor::f32(l_shape, lse2));
  auto run = [&](auto zero, std::vector<double>& out, std::vector<double>& lse) {
    using T = decltype(zero);
    const auto n = Eigen::Index(rows);
    reference::AttentionState<T> a{Matrix<T>(n, Eigen::Index(dh)), reference::Vector<T>(n)};
    reference::AttentionState<T> b{Matrix<T>(n, Eigen::Index(dh)), reference::Vector<T>(n)};
    for (std::size_t r = 0; r < rows; ++r) {
      a.lse(Eigen::Index(r)) = T(lse1[r]);
      b.lse(Eigen::Index(r)) = T(lse2[r]);
      for (std::size_t d = 0; d < dh; ++d) {
        a.out(Eigen::Index(r), Eigen::Index(d)) = T(out1[r * dh + d]);
        b.out(Eigen::Index(r), Eigen::Index(d)) = T(out2[r * dh + d]);
      }
    }
    const reference::AttentionState<T> m = reference::merge<T>(a, b);
    out.resize(rows * dh);
    lse.resize(rows);
    for (std::size_t r = 0; r < rows; ++r) {
      lse[r] = double(m.lse(Eigen::Index(r)));
      for (std::size_t d = 0; d < dh; ++d) out[r * dh + d] = double(m.out(Eigen::Index(r), Eigen::Index(d)));
    }
  };
  std::vector<double> out, lse;
  run(double(0), out, lse);
  g.expected.emplace_back("out", Tensor::f64(o_shape, out));
  g.expected.emplace_back("lse", Tensor::f64(l_shape, lse));
  run(float(0), out, lse);
  g.float32["out"] = Tensor::f64(o_shape, out);
  g.float32["lse"] = Tensor::f64(l_shape, lse);
  return g;
}

}  // namespace artabpfn::conformance::detail
