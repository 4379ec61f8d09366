// Attention and merge cases: inputs, and their double reference outputs through the contract
// traversal of conformance/plain/attention.hpp with reference::attend and reference::merge.
#include <algorithm>
#include <limits>
#include <stdexcept>

#include "conformance/generators.hpp"
#include "conformance/plain/attention.hpp"

namespace artabpfn::conformance::detail {
namespace {

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

// A value on the grid both bfloat16 and binary16 hold (8 significant bits, no binary16 overflow).
double on_low_precision_grid(double x) { return double(plain::round_fp16(plain::round_bf16(float(x)))); }

void put_on_grid(InputGrid grid, std::vector<double>& values) {
  if (grid == InputGrid::kBf16)
    for (double& v : values) v = on_low_precision_grid(v);
}

std::vector<double> unit_vector(Rng& rng, std::size_t n) {
  std::vector<double> u(n);
  double norm = 0;
  for (double& x : u) {
    x = rng.normal();
    norm += x * x;
  }
  for (double& x : u) x /= std::sqrt(norm);
  return u;
}

// One source dominates: queries u + 1e-3 n, dominant keys c u + n with c = 1e3 sqrt(Dh)
// (1 + 2e-3 z), so its scores are ~1e3 above the other source's (as the GPU properties do).
void dominated_scores(const AttentionCase& c, AttentionInputs& in, Rng& rng) {
  const std::size_t T = c.context_len.size(), Dh = std::size_t(c.head_dim);
  for (int h = 0; h < c.heads; ++h) {
    const std::vector<double> u = unit_vector(rng, Dh);
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
}

// Scores ~1.2e5 in magnitude: queries +-600 u + 0.05 n (the sign alternates by query row), every
// key ~1131 u (1 + 2e-5 z) + 0.05 n, so q.k / sqrt(Dh) ~ 600 x 1131 / sqrt(32) for Dh = 32 and
// the same magnitude for other Dh; each component stays below 65504.
void scores_beyond_float16(const AttentionCase& c, AttentionInputs& in, Rng& rng) {
  const std::size_t T = c.context_len.size(), Dh = std::size_t(c.head_dim);
  const double query_norm = 600.0, key_norm = 1.2e5 * std::sqrt(double(Dh)) / query_norm;
  for (int h = 0; h < c.heads; ++h) {
    const std::vector<double> u = unit_vector(rng, Dh);
    for (int b = 0; b < c.batch; ++b)
      for (int i = 0; i < c.queries; ++i) {
        const double sign = (b * c.queries + i) % 2 == 0 ? 1.0 : -1.0;
        for (std::size_t d = 0; d < Dh; ++d) in.q[q_index(c, b, h, i) + d] = sign * query_norm * u[d] + 0.05 * rng.normal();
      }
    auto key = [&](std::vector<double>& keys, std::size_t row) {
      const double scale = key_norm * (1.0 + 2e-5 * rng.normal());
      for (std::size_t d = 0; d < Dh; ++d) keys[row + d] = scale * u[d] + 0.05 * rng.normal();
    };
    for (std::size_t t = 0; t < T; ++t)
      for (int j = 0; j < c.context_len[t]; ++j) key(in.context_k, context_index(c, in.nc_max, int(t), h, j));
    for (int b = 0; b < c.batch; ++b)
      for (int j = 0; j < c.capacity; ++j) key(in.buffer_k, buffer_index(c, b, h, j));
  }
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
  if (c.values == ScoreValues::kContextDominates || c.values == ScoreValues::kBufferDominates) dominated_scores(c, in, rng);
  if (c.values == ScoreValues::kBeyondFloat16) scores_beyond_float16(c, in, rng);
  for (std::vector<double>* v : {&in.q, &in.context_k, &in.context_v, &in.buffer_k, &in.buffer_v}) put_on_grid(c.grid, *v);
  return in;
}

Shape dims(std::initializer_list<int> d) { return Shape(d.begin(), d.end()); }

CaseFile inputs_file(const Generated& g) {
  CaseFile file;
  file.inputs = g.inputs;
  return file;
}

}  // namespace

Generated generate_attention(const AttentionCase& c, std::uint64_t seed) {
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

  const plain::AttentionProblem problem = plain::AttentionProblem::read(c.contract, inputs_file(g));
  plain::AttentionResult r = plain::attention_contract<double>(
      problem, [](const auto& q, const auto& k, const auto& v, const auto& visible) {
        return reference::attend<double>(q, k, v, visible);
      });
  g.expected.emplace_back("out", Tensor::f64(dims({c.batch, c.heads, c.queries, c.head_dim}), std::move(r.out)));
  g.expected.emplace_back("lse", Tensor::f64(dims({c.batch, c.heads, c.queries}), std::move(r.lse)));
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
  put_on_grid(c.grid, out1);
  put_on_grid(c.grid, out2);
  Generated g;
  const Shape o_shape{std::int64_t(rows), std::int64_t(dh)}, l_shape{std::int64_t(rows)};
  g.inputs.emplace_back("out1", Tensor::f32(o_shape, out1));
  g.inputs.emplace_back("lse1", Tensor::f32(l_shape, lse1));
  g.inputs.emplace_back("out2", Tensor::f32(o_shape, out2));
  g.inputs.emplace_back("lse2", Tensor::f32(l_shape, lse2));
  plain::AttentionResult r = plain::merge_contract<double>(plain::MergeProblem::read(inputs_file(g)));
  g.expected.emplace_back("out", Tensor::f64(o_shape, std::move(r.out)));
  g.expected.emplace_back("lse", Tensor::f64(l_shape, std::move(r.lse)));
  return g;
}

}  // namespace artabpfn::conformance::detail
