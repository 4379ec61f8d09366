#include "conformance/float32_cpu/model.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

#include "artabpfn/random_stream.hpp"
#include "conformance/float32_cpu/attention.hpp"
#include "conformance/float32_cpu/mutants.hpp"

namespace artabpfn::conformance::cpu {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr int kTargetMarker = 0, kContextMarker = 1, kBufferMarker = 2;

float gelu(float u) { return u / 2.0f * (1.0f + std::erf(u / std::sqrt(2.0f))); }

// [B, L, H*Dh] rows <-> [B, H, L, Dh] heads.
std::vector<float> rows_to_heads(const std::vector<float>& rows, std::int64_t batch, int length, int heads, int dh) {
  std::vector<float> out(rows.size());
  for (std::int64_t b = 0; b < batch; ++b)
    for (int l = 0; l < length; ++l)
      for (int h = 0; h < heads; ++h)
        for (int d = 0; d < dh; ++d)
          out[std::size_t((((b * heads + h) * length) + l) * dh + d)] = rows[std::size_t(((b * length + l) * heads + h) * dh + d)];
  return out;
}

std::vector<float> heads_to_rows(const std::vector<float>& heads_layout, std::int64_t batch, int length, int heads, int dh) {
  std::vector<float> out(heads_layout.size());
  for (std::int64_t b = 0; b < batch; ++b)
    for (int l = 0; l < length; ++l)
      for (int h = 0; h < heads; ++h)
        for (int d = 0; d < dh; ++d)
          out[std::size_t(((b * length + l) * heads + h) * dh + d)] =
              heads_layout[std::size_t((((b * heads + h) * length) + l) * dh + d)];
  return out;
}

}  // namespace

// Per layer, the context K/V of all tasks as the kernels keep them: task t's [H, Nc_t, Dh]
// block at element start[t] * D. Also the row form [N, D] for prefill_kv.
struct Model::ContextStore {
  std::vector<std::vector<float>> k, v, k_rows, v_rows;
  std::vector<std::int64_t> start;  // first row of each task
  std::vector<int> length;

  Context context(int l, const ModelConfig& c, std::vector<int> task_of_sample) const {
    Context ctx;
    ctx.k = k[std::size_t(l)].data();
    ctx.v = v[std::size_t(l)].data();
    for (std::size_t t = 0; t < start.size(); ++t) ctx.offset.push_back(start[t] * c.d_model);
    ctx.length = length;
    ctx.head_stride = length;
    ctx.task_of_sample = std::move(task_of_sample);
    return ctx;
  }

  // Stores rows [N, D] of layer l's K/V.
  void store(int l, const ModelConfig& c, const std::vector<float>& krows, const std::vector<float>& vrows) {
    const int D = c.d_model, dh = c.head_dim();
    std::vector<float>& kb = k[std::size_t(l)];
    std::vector<float>& vb = v[std::size_t(l)];
    kb.assign(krows.size(), 0.0f);
    vb.assign(vrows.size(), 0.0f);
    for (std::size_t t = 0; t < start.size(); ++t)
      for (int j = 0; j < length[t]; ++j)
        for (int h = 0; h < c.n_heads; ++h)
          for (int d = 0; d < dh; ++d) {
            const std::size_t src = std::size_t((start[t] + j) * D + h * dh + d);
            const std::size_t dst = std::size_t(start[t] * D + (std::int64_t(h) * length[t] + j) * dh + d);
            kb[dst] = krows[src];
            vb[dst] = vrows[src];
          }
    k_rows[std::size_t(l)] = krows;
    v_rows[std::size_t(l)] = vrows;
  }
};

Model::Model(const ModelWeights& w) : w_(w), c_(w.config) {
  w.validate();
  auto lin = [&w](const std::string& name, bool bias) {
    const HostTensor<float>& t = w.at(name + ".weight");
    return Linear{t.data.data(), bias ? w.at(name + ".bias").data.data() : nullptr, int(t.dim(0)), int(t.dim(1))};
  };
  auto norm = [&w](const std::string& name) { return Norm{w.at(name + ".weight").data.data(), w.at(name + ".bias").data.data()}; };
  for (int i = 0; i < c_.n_layers; ++i) {
    const auto at = [i](const std::string& s) { return layer_tensor(i, s); };
    layers_.push_back(Layer{lin(at("attn_features.v_proj"), false), lin(at("attn_features.out_proj"), false),
                            lin(at("attn_rows.q_proj"), false), lin(at("attn_rows.k_proj"), false),
                            lin(at("attn_rows.v_proj"), false), lin(at("attn_rows.out_proj"), false),
                            lin(at("ff.0"), true), lin(at("ff.2"), true), norm(at("norm1")), norm(at("norm2")),
                            norm(at("norm3"))});
  }
  final_norm_ = norm("backbone.norm");
  head_in_ = lin("head.head.0", true);
  head_out_ = lin("head.head.2", true);
  mean_bias_ = w.at("head.mean_bias").data.data();
  std_bias_ = w.at("head.std_bias").data.data();
  weight_bias_ = w.at("head.weight_bias").data.data();
}

std::vector<float> Model::linear(const Linear& p, const std::vector<float>& x, std::int64_t rows) const {
  std::vector<float> y(static_cast<std::size_t>(rows * p.out));
  for (std::int64_t r = 0; r < rows; ++r)
    for (int o = 0; o < p.out; ++o) {
      float acc = 0.0f;
      for (int k = 0; k < p.in; ++k) acc += x[std::size_t(r * p.in + k)] * p.w[std::size_t(o) * std::size_t(p.in) + std::size_t(k)];
      y[std::size_t(r * p.out + o)] = p.b ? acc + p.b[o] : acc;
    }
  return y;
}

void Model::layer_norm(const Norm& p, std::vector<float>& x, std::int64_t rows) const {
  const int D = c_.d_model;
  for (std::int64_t r = 0; r < rows; ++r) {
    float* v = x.data() + r * D;
    float sum = 0.0f;
    for (int i = 0; i < D; ++i) sum += v[i];
    const float mean = sum / float(D);
    float sq = 0.0f;
    for (int i = 0; i < D; ++i) sq += (v[i] - mean) * (v[i] - mean);
    const float inv = 1.0f / std::sqrt(sq / float(D) + 1e-5f);
    for (int i = 0; i < D; ++i) v[i] = (v[i] - mean) * inv * p.w[i] + p.b[i];
  }
}

std::vector<float> Model::embed(const float* x, int features, const float* y, int marker, int position) const {
  const int D = c_.d_model;
  const float* wx = w_.at("embedder.x_embed.weight").data.data();
  const float* bx = w_.at("embedder.x_embed.bias").data.data();
  const float* wy = w_.at("embedder.y_embed.weight").data.data();
  const float* by = w_.at("embedder.y_embed.bias").data.data();
  const float* markers = w_.at("embedder.marker_embed.weight").data.data();
  const float* tokens = w_.at("ar_tokens").data.data();
  std::vector<float> row(static_cast<std::size_t>(D));
  for (int c = 0; c < D; ++c) {
    float sum = 0.0f;
    for (int f = 0; f < features; ++f) sum += wx[c] * x[f] + bx[c];
    float v = sum / float(features);
    if (y) v += wy[c] * *y + by[c];
    v += markers[marker * D + c];
    if (position >= 0) v += tokens[(position % c_.buffer_size) * D + c];
    row[std::size_t(c)] = v;
  }
  return row;
}

template <class Attend>
void Model::layer(int l, std::vector<float>& x, std::int64_t rows, Attend&& attend) const {
  const Layer& p = layers_[std::size_t(l)];
  std::vector<float> h = linear(p.feature_out, linear(p.feature_v, x, rows), rows);
  for (std::size_t i = 0; i < h.size(); ++i) h[i] += x[i];
  layer_norm(p.norm1, h, rows);
  const std::vector<float> q = linear(p.q, h, rows), k = linear(p.k, h, rows), v = linear(p.v, h, rows);
  const std::vector<float> a = attend(q, k, v);
  std::vector<float> h2 = linear(p.out, a, rows);
  for (std::size_t i = 0; i < h2.size(); ++i) h2[i] += h[i];
  layer_norm(p.norm2, h2, rows);
  std::vector<float> f = linear(p.ff_in, h2, rows);
  for (float& u : f) u = gelu(u);
  x = linear(p.ff_out, f, rows);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] += h2[i];
  layer_norm(p.norm3, x, rows);
}

Model::ContextStore Model::prefill(const TaskBatch& tasks) const {
  const int D = c_.d_model, H = c_.n_heads, dh = c_.head_dim();
  ContextStore store;
  store.k.resize(std::size_t(c_.n_layers));
  store.v = store.k_rows = store.v_rows = store.k;
  std::vector<float> x;
  std::vector<int> row_task;
  for (int t = 0; t < tasks.tasks; ++t) {
    store.start.push_back(std::int64_t(row_task.size()));
    store.length.push_back(tasks.context_len[std::size_t(t)]);
    for (int j = 0; j < tasks.context_len[std::size_t(t)]; ++j) {
      const std::size_t row = std::size_t(t) * std::size_t(tasks.nc_max) + std::size_t(j);
      const std::vector<float> e = embed(&tasks.x_context[row * std::size_t(tasks.features)], tasks.features,
                                         &tasks.y_context[row], kContextMarker, -1);
      x.insert(x.end(), e.begin(), e.end());
      row_task.push_back(t);
    }
  }
  const std::int64_t n = std::int64_t(row_task.size());
  for (int l = 0; l < c_.n_layers; ++l) {
    layer(l, x, n, [&](const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v) {
      store.store(l, c_, k, v);
      // Each context row is a query (Lq = 1) of its own task's context: rows [n, D] = [n, H, 1, Dh].
      std::vector<float> out(static_cast<std::size_t>(n * D), 0.0f), lse(static_cast<std::size_t>(n * H), 0.0f);
      shared_context_attention({q.data(), int(n), H, 1, dh}, store.context(l, c_, row_task), out.data(), lse.data());
      return out;
    });
  }
  return store;
}

void Model::prefill_kv(const TaskBatch& tasks, std::vector<float>& keys, std::vector<float>& values) const {
  const ContextStore store = prefill(tasks);
  const int D = c_.d_model;
  const std::size_t per_layer = std::size_t(tasks.tasks) * std::size_t(tasks.nc_max) * std::size_t(D);
  keys.assign(std::size_t(c_.n_layers) * per_layer, 0.0f);
  values = keys;
  for (int l = 0; l < c_.n_layers; ++l)
    for (int t = 0; t < tasks.tasks; ++t)
      for (int j = 0; j < tasks.context_len[std::size_t(t)]; ++j)
        for (int d = 0; d < D; ++d) {
          const std::size_t dst = std::size_t(l) * per_layer + (std::size_t(t) * std::size_t(tasks.nc_max) + std::size_t(j)) * std::size_t(D) + std::size_t(d);
          const std::size_t src = std::size_t((store.start[std::size_t(t)] + j) * D + d);
          keys[dst] = store.k_rows[std::size_t(l)][src];
          values[dst] = store.v_rows[std::size_t(l)][src];
        }
}

Mixtures Model::mixture_parameters(const std::vector<float>& z, std::int64_t rows) const {
  std::vector<float> hidden = linear(head_in_, z, rows);
  for (float& u : hidden) u = gelu(u);
  const std::vector<float> r = linear(head_out_, hidden, rows);
  const int K = c_.num_components;
  Mixtures m;
  m.mean.resize(std::size_t(rows * K));
  m.std = m.log_weight = m.mean;
  for (std::int64_t i = 0; i < rows; ++i) {
    std::vector<float> logits(static_cast<std::size_t>(K));
    for (int k = 0; k < K; ++k) {
      const std::size_t e = std::size_t(i * K + k);
      m.mean[e] = r[std::size_t(i * 3 * K + 3 * k)] + mean_bias_[k];
      const float u = r[std::size_t(i * 3 * K + 3 * k + 1)] + std_bias_[k];
      const float softplus = u > 20.0f ? u : std::log1p(std::exp(u));
      m.std[e] = std::min(softplus, 2.0f) + 1.0f / 1000.0f;
      logits[std::size_t(k)] = r[std::size_t(i * 3 * K + 3 * k + 2)] + weight_bias_[k];
    }
    const float mx = *std::max_element(logits.begin(), logits.end());
    float sum = 0.0f;
    for (float v : logits) sum += std::exp(v - mx);
    const float lse = mx + std::log(sum);
    for (int k = 0; k < K; ++k) m.log_weight[std::size_t(i * K + k)] = logits[std::size_t(k)] - lse;
  }
  return m;
}

float Model::log_density(const Mixtures& m, std::int64_t row, float y) const {
  const int K = c_.num_components;
  const float log_two_pi = std::log(2.0f * (4.0f * std::atan(1.0f)));
  std::vector<float> terms(static_cast<std::size_t>(K));
  for (int k = 0; k < K; ++k) {
    const std::size_t e = std::size_t(row * K + k);
    const float z = (y - m.mean[e]) / m.std[e];
    terms[std::size_t(k)] = m.log_weight[e] - (log_two_pi + 2.0f * std::log(m.std[e]) + z * z) / 2.0f;
  }
  const float mx = *std::max_element(terms.begin(), terms.end());
  float sum = 0.0f;
  for (float v : terms) sum += std::exp(v - mx);
  return mx + std::log(sum);
}

int Model::pick(const Mixtures& m, std::int64_t row, double uniform) const {
  const int K = c_.num_components;
  float cumulative = 0.0f;
  for (int k = 0; k < K; ++k) {
    cumulative += std::exp(m.log_weight[std::size_t(row * K + k)]);
    if (uniform < double(cumulative)) return k;
  }
  return K - 1;
}

float Model::draw(const Mixtures& m, std::int64_t row, int component, double normal) const {
  const std::size_t e = std::size_t(row * c_.num_components + component);
  return m.mean[e] + m.std[e] * float(normal);
}

std::vector<float> Model::teacher_forcing_density(const TaskBatch& tasks, const std::vector<float>& y, int value_sets) const {
  const int D = c_.d_model, H = c_.n_heads, dh = c_.head_dim(), nt = tasks.nt_max, L = 2 * nt;
  const std::int64_t B = std::int64_t(tasks.tasks) * value_sets;
  std::vector<float> result(static_cast<std::size_t>(B * nt), kNaN);
  if (nt == 0 || B == 0) return result;
  const ContextStore store = prefill(tasks);
  std::vector<int> seq_task(static_cast<std::size_t>(B));
  std::vector<float> x(static_cast<std::size_t>(B * L * D));
  for (std::int64_t b = 0; b < B; ++b) {
    const int t = int(b / value_sets);
    seq_task[std::size_t(b)] = t;
    for (int j = 0; j < nt; ++j) {
      const float* xr = &tasks.x_target[(std::size_t(t) * std::size_t(nt) + std::size_t(j)) * std::size_t(tasks.features)];
      const std::vector<float> buf = embed(xr, tasks.features, &y[std::size_t(b * nt + j)], kBufferMarker, j);
      const std::vector<float> tgt = embed(xr, tasks.features, nullptr, kTargetMarker, -1);
      std::copy(buf.begin(), buf.end(), x.begin() + (b * L + j) * D);
      std::copy(tgt.begin(), tgt.end(), x.begin() + (b * L + nt + j) * D);
    }
  }
  for (int l = 0; l < c_.n_layers; ++l) {
    layer(l, x, B * L, [&](const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v) {
      const std::vector<float> qh = rows_to_heads(q, B, L, H, dh), kh = rows_to_heads(k, B, L, H, dh),
                               vh = rows_to_heads(v, B, L, H, dh);
      const std::size_t rows = std::size_t(B * H * L);
      std::vector<float> o1(rows * std::size_t(dh)), o2(o1.size()), o(o1.size()), l1(rows), l2(rows), lse(rows);
      const Queries qb{qh.data(), int(B), H, L, dh};
      // Split path: context part, buffer part (the first nt of each sequence's L rows), merge.
      shared_context_attention(qb, store.context(l, c_, seq_task), o1.data(), l1.data());
      buffer_attention(qb, {kh.data(), vh.data(), L, nt, true}, o2.data(), l2.data());
      merge_states(o1.data(), l1.data(), o2.data(), l2.data(), std::int64_t(rows), dh, o.data(), lse.data());
      return heads_to_rows(o, B, L, H, dh);
    });
  }
  std::vector<float> z(static_cast<std::size_t>(B * nt * D));
  for (std::int64_t b = 0; b < B; ++b)
    std::copy(x.begin() + (b * L + nt) * D, x.begin() + (b * L + L) * D, z.begin() + b * nt * D);
  layer_norm(final_norm_, z, B * nt);
  const Mixtures m = mixture_parameters(z, B * nt);
  for (std::int64_t b = 0; b < B; ++b)
    for (int j = 0; j < tasks.target_len[std::size_t(seq_task[std::size_t(b)])]; ++j)
      result[std::size_t(b * nt + j)] = log_density(m, b * nt + j, y[std::size_t(b * nt + j)]);
  return result;
}

// The decode path for B sequences: context K/V from `store`, buffer K/V appended per step.
struct Model::Decoder {
  const Model& model;
  int nt, capacity;
  std::int64_t batch;
  std::vector<std::vector<float>> kb, vb;  // per layer [B, H, capacity, Dh]

  Decoder(const Model& m, std::int64_t b, int nt_, int cap) : model(m), nt(nt_), capacity(cap), batch(b) {
    const ModelConfig& c = m.c_;
    kb.assign(std::size_t(c.n_layers), std::vector<float>(std::size_t(b * c.n_heads * cap * c.head_dim()), 0.0f));
    vb = kb;
  }

  // Step t: rows x [B * r, D] (buffer t-1 then target t per sequence when t >= 1); runs the
  // layers, appending buffer t-1's K/V first; returns the final rows.
  void step(int t, std::vector<float>& x, const std::function<Context(int)>& context) {
    const ModelConfig& c = model.c_;
    const int H = c.n_heads, dh = c.head_dim(), D = c.d_model, r = t > 0 ? 2 : 1;
    for (int l = 0; l < c.n_layers; ++l) {
      model.layer(l, x, batch * r, [&](const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v) {
        if (t > 0)
          for (std::int64_t b = 0; b < batch; ++b)
            for (int h = 0; h < H; ++h)
              for (int d = 0; d < dh; ++d) {
                const std::size_t dst = std::size_t(((b * H + h) * capacity + (t - 1)) * dh + d);
                kb[std::size_t(l)][dst] = k[std::size_t(b * r * D + h * dh + d)];
                vb[std::size_t(l)][dst] = v[std::size_t(b * r * D + h * dh + d)];
              }
        const std::vector<float> qh = rows_to_heads(q, batch, r, H, dh);
        std::vector<float> o(qh.size()), lse(std::size_t(batch * H * r));
        fused_attention({qh.data(), int(batch), H, r, dh}, context(l),
                        {kb[std::size_t(l)].data(), vb[std::size_t(l)].data(), capacity, t, false}, o.data(), lse.data());
        return heads_to_rows(o, batch, r, H, dh);
      });
    }
  }
};

namespace {

// Step t's rows for sequence b of task `task`: buffer t-1 (value y_prev) and target t.
void step_rows(const std::function<std::vector<float>(const float*, int, const float*, int, int)>& embed,
               const float* x_target_task, int features, int t, const float* y_prev, float* out, int d_model) {
  const bool shift = mutant(Mutant::kArTokenShift);  // the decode path's buffer position
  if (t > 0) {
    const std::vector<float> buf = embed(x_target_task + std::size_t(t - 1) * std::size_t(features), features, y_prev,
                                         kBufferMarker, shift ? t : t - 1);
    std::copy(buf.begin(), buf.end(), out);
    out += d_model;
  }
  const std::vector<float> tgt = embed(x_target_task + std::size_t(t) * std::size_t(features), features, nullptr, kTargetMarker, -1);
  std::copy(tgt.begin(), tgt.end(), out);
}

}  // namespace

template <class Value, class Result>
std::vector<float> Model::decode(const TaskBatch& tasks, int per_task, Value&& value, Result&& result) const {
  const int D = c_.d_model, nt = tasks.nt_max;
  const std::int64_t B = std::int64_t(tasks.tasks) * per_task;
  std::vector<float> out(static_cast<std::size_t>(B * nt), kNaN), values(static_cast<std::size_t>(B * nt), 0.0f);
  if (nt == 0 || B == 0) return out;
  const ContextStore store = prefill(tasks);
  std::vector<int> seq_task(static_cast<std::size_t>(B));
  for (std::int64_t b = 0; b < B; ++b) seq_task[std::size_t(b)] = int(b / per_task);
  Decoder dec(*this, B, nt, nt);
  const auto embed_fn = [this](const float* x, int f, const float* yv, int marker, int pos) { return embed(x, f, yv, marker, pos); };
  for (int t = 0; t < nt; ++t) {
    const int r = t > 0 ? 2 : 1;
    std::vector<float> x(static_cast<std::size_t>(B * r * D));
    for (std::int64_t b = 0; b < B; ++b) {
      const float* xt = &tasks.x_target[std::size_t(seq_task[std::size_t(b)]) * std::size_t(nt) * std::size_t(tasks.features)];
      step_rows(embed_fn, xt, tasks.features, t, t > 0 ? &values[std::size_t(b * nt + t - 1)] : nullptr,
                &x[std::size_t(b * r * D)], D);
    }
    dec.step(t, x, [&](int l) { return store.context(l, c_, seq_task); });
    std::vector<float> z(static_cast<std::size_t>(B * D));
    for (std::int64_t b = 0; b < B; ++b) std::copy(x.begin() + (b * r + r - 1) * D, x.begin() + (b * r + r) * D, z.begin() + b * D);
    layer_norm(final_norm_, z, B);
    const Mixtures m = mixture_parameters(z, B);
    for (std::int64_t b = 0; b < B; ++b) {
      values[std::size_t(b * nt + t)] = value(m, b, t);
      if (t < tasks.target_len[std::size_t(seq_task[std::size_t(b)])]) out[std::size_t(b * nt + t)] = result(m, b, t);
    }
  }
  return out;
}

std::vector<float> Model::forced_ar_density(const TaskBatch& tasks, const std::vector<float>& y, int value_sets) const {
  const int nt = tasks.nt_max;
  const auto given = [&](const Mixtures&, std::int64_t b, int t) { return y[std::size_t(b * nt + t)]; };
  const auto density = [&](const Mixtures& m, std::int64_t b, int t) { return log_density(m, b, given(m, b, t)); };
  return decode(tasks, value_sets, given, density);
}

std::vector<float> Model::sample_sequence(const TaskBatch& tasks, int samples, std::uint64_t seed) const {
  const int nt = tasks.nt_max;
  std::vector<float> drawn(static_cast<std::size_t>(std::int64_t(tasks.tasks) * samples * nt));
  const auto sample = [&](const Mixtures& m, std::int64_t b, int t) {
    const auto d = random_stream::draw_for(seed, std::uint32_t(b / samples), std::uint32_t(b % samples), std::uint32_t(t));
    return drawn[std::size_t(b * nt + t)] = draw(m, b, pick(m, b, d.component_uniform), d.normal);
  };
  const auto same = [&](const Mixtures&, std::int64_t b, int t) { return drawn[std::size_t(b * nt + t)]; };
  return decode(tasks, samples, sample, same);
}

void Model::buffer_kv_append(const std::vector<float>& x_target, int features, int step, const std::vector<float>& y_buffer,
                             const std::vector<float>& context_keys, const std::vector<float>& context_values, int nc,
                             const std::vector<float>& keys_before, const std::vector<float>& values_before,
                             std::vector<float>& keys_after, std::vector<float>& values_after) const {
  if (step < 1) throw std::invalid_argument("buffer_kv_append: step must be >= 1");
  const int D = c_.d_model, H = c_.n_heads, dh = c_.head_dim(), Lr = c_.n_layers;
  const std::int64_t S = std::int64_t(y_buffer.size());
  ContextStore store;
  store.k.resize(std::size_t(Lr));
  store.v = store.k_rows = store.v_rows = store.k;
  store.start = {0};
  store.length = {nc};
  for (int l = 0; l < Lr; ++l) {
    const auto first = std::size_t(l) * std::size_t(nc) * std::size_t(D);
    store.store(l, c_, std::vector<float>(context_keys.begin() + std::ptrdiff_t(first), context_keys.begin() + std::ptrdiff_t(first + std::size_t(nc * D))),
                std::vector<float>(context_values.begin() + std::ptrdiff_t(first), context_values.begin() + std::ptrdiff_t(first + std::size_t(nc * D))));
  }
  Decoder dec(*this, S, step + 1, step);
  const int before = step - 1;
  for (int l = 0; l < Lr; ++l)
    for (std::int64_t s = 0; s < S; ++s)
      for (int j = 0; j < before; ++j)
        for (int h = 0; h < H; ++h)
          for (int d = 0; d < dh; ++d) {
            const std::size_t src = std::size_t((((std::int64_t(l) * S + s) * before + j) * D) + h * dh + d);
            const std::size_t dst = std::size_t(((s * H + h) * step + j) * dh + d);
            dec.kb[std::size_t(l)][dst] = keys_before[src];
            dec.vb[std::size_t(l)][dst] = values_before[src];
          }
  std::vector<float> x(static_cast<std::size_t>(S * 2 * D));
  const auto embed_fn = [this](const float* xr, int f, const float* yv, int marker, int pos) { return embed(xr, f, yv, marker, pos); };
  for (std::int64_t s = 0; s < S; ++s) step_rows(embed_fn, x_target.data(), features, step, &y_buffer[std::size_t(s)], &x[std::size_t(s * 2 * D)], D);
  const std::vector<int> task_of_sample(static_cast<std::size_t>(S), 0);
  dec.step(step, x, [&](int l) { return store.context(l, c_, task_of_sample); });
  keys_after.assign(std::size_t(Lr * S * step * D), 0.0f);
  values_after = keys_after;
  for (int l = 0; l < Lr; ++l)
    for (std::int64_t s = 0; s < S; ++s)
      for (int j = 0; j < step; ++j)
        for (int h = 0; h < H; ++h)
          for (int d = 0; d < dh; ++d) {
            const std::size_t dst = std::size_t((((std::int64_t(l) * S + s) * step + j) * D) + h * dh + d);
            const std::size_t src = std::size_t(((s * H + h) * step + j) * dh + d);
            keys_after[dst] = dec.kb[std::size_t(l)][src];
            values_after[dst] = dec.vb[std::size_t(l)][src];
          }
}

}  // namespace artabpfn::conformance::cpu
