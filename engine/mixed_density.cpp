#include "engine/mixed_density.hpp"

#include "kernels/attention.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/layer.hpp"
#include "kernels/rows.hpp"
#include "kernels/wide.hpp"

namespace artabpfn::engine {

using kernels::DeviceBuffer;
using kernels::Epilogue;

// Scratch for n rows: the double activations, the float32 q|k|v, attention output and buffer
// K/V (heads layout), and the head's float32 mixture rows.
struct MixedDensity::Workspace {
  DeviceBuffer<double> x, t, u, h, h2, f;
  DeviceBuffer<float> qkv, a, lse, kh, vh, mix;
  Workspace(std::int64_t n, const ModelConfig& c)
      : x(sz(n, c.d_model)), t(sz(n, c.d_model)), u(sz(n, c.d_model)), h(sz(n, c.d_model)), h2(sz(n, c.d_model)),
        f(sz(n, c.d_ff)), qkv(sz(n, 3 * c.d_model)), a(sz(n, c.d_model)), lse(sz(n, c.n_heads)),
        kh(sz(n, c.d_model)), vh(sz(n, c.d_model)), mix(sz(n, 3 * c.num_components)) {}
  static std::size_t sz(std::int64_t n, int width) { return static_cast<std::size_t>(n) * static_cast<std::size_t>(width); }
  static std::int64_t floats_per_row(const ModelConfig& c) {
    return 2 * (5 * c.d_model + c.d_ff) + 6 * c.d_model + c.n_heads + 3 * c.num_components;
  }
};

std::int64_t MixedDensity::floats_per_sequence(const ModelConfig& c, std::int64_t nt) {
  return 2 * nt * Workspace::floats_per_row(c) + 4 * nt + 8;  // + values, log densities, indices
}

// Every layer on w.x [n, D] in place; attend(l, w) fills w.a from w.qkv for layer l.
template <class Attend>
void MixedDensity::layers(Workspace& w, std::int64_t n, Attend&& attend) {
  namespace wide = kernels::wide;
  const int D = c_.d_model;
  for (int l = 0; l < c_.n_layers; ++l) {
    const LayerWeights& L = m_.layer(l);
    const float* feature_v = m_.tensor(layer_tensor(l, "attn_features.v_proj.weight"));
    const float* feature_out = m_.tensor(layer_tensor(l, "attn_features.out_proj.weight"));
    wide::linear(w.x.data(), feature_v, nullptr, nullptr, w.t.data(), n, D, D, Epilogue::kNone, s_);
    wide::linear(w.t.data(), feature_out, nullptr, nullptr, w.u.data(), n, D, D, Epilogue::kNone, s_);
    wide::layer_norm(w.x.data(), w.u.data(), L.norm1_weight, L.norm1_bias, w.h.data(), n, D, s_);
    wide::linear(w.h.data(), L.qkv, nullptr, nullptr, w.qkv.data(), n, D, 3 * D, Epilogue::kNone, s_);
    attend(l, w);
    wide::linear(w.a.data(), L.out, nullptr, nullptr, w.t.data(), n, D, D, Epilogue::kNone, s_);
    wide::layer_norm(w.h.data(), w.t.data(), L.norm2_weight, L.norm2_bias, w.h2.data(), n, D, s_);
    wide::linear(w.h2.data(), L.ff_in, L.ff_in_bias, nullptr, w.f.data(), n, D, c_.d_ff, Epilogue::kGelu, s_);
    wide::linear(w.f.data(), L.ff_out, L.ff_out_bias, nullptr, w.t.data(), n, c_.d_ff, D, Epilogue::kNone, s_);
    wide::layer_norm(w.h2.data(), w.t.data(), L.norm3_weight, L.norm3_bias, w.x.data(), n, D, s_);
  }
}

ContextCache MixedDensity::prefill(const TaskData& d) {
  const std::int64_t n = d.context_rows;
  ContextCache cache;
  for (int l = 0; l < c_.n_layers; ++l) {
    cache.k.emplace_back(static_cast<std::size_t>(n * c_.d_model));
    cache.v.emplace_back(static_cast<std::size_t>(n * c_.d_model));
  }
  if (n == 0) return cache;
  Workspace w(n, c_);
  kernels::embed_rows(m_.embedding(),
                      kernels::WideEmbeddingJob{d.x_context.data(), nullptr, 0, d.features, d.y_context.data(), 1,
                                                nullptr, -1, /*marker=*/1, w.x.data(), 1, 1, 0},
                      n, s_);
  const int H = c_.n_heads, Dh = c_.head_dim(), D = c_.d_model;
  layers(w, n, [&](int l, Workspace& ws) {
    kernels::rows_to_context_blocks(ws.qkv.data() + D, cache.k[l].data(), d.row_task.data(), d.row_start.data(),
                                    d.context_len.data(), n, H, Dh, s_, 3 * D);
    kernels::rows_to_context_blocks(ws.qkv.data() + 2 * D, cache.v[l].data(), d.row_task.data(), d.row_start.data(),
                                    d.context_len.data(), n, H, Dh, s_, 3 * D);
    // Each context row is a query of its own task's context (one query per "sample").
    const kernels::QueryBlock q{ws.qkv.data(), static_cast<int>(n), H, 1, Dh, 3 * D};
    const kernels::ContextKV ctx{cache.k[l].data(), cache.v[l].data(), d.context_offset.data(), d.context_len.data(),
                                 d.row_task.data()};
    const kernels::BufferKV none{nullptr, nullptr, 0, 0, kernels::BufferMask::kDecode};
    kernels::wide::attention(q, ctx, none, {ws.a.data(), ws.lse.data(), true}, s_);
  });
  ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(s_));  // w is freed on return
  return cache;
}

void MixedDensity::teacher_forcing(const TaskData& d, const ContextCache& cache,
                                   const std::vector<std::int32_t>& seq_task, const float* y, std::int64_t nt,
                                   float* log_density) {
  namespace wide = kernels::wide;
  const std::int64_t batch = static_cast<std::int64_t>(seq_task.size()), L = 2 * nt, n = batch * L;
  const int H = c_.n_heads, Dh = c_.head_dim(), D = c_.d_model;
  Workspace w(n, c_);
  const TeacherForcingIndex index(d, seq_task, nt);
  embed_teacher_forcing_rows(m_.embedding(), d, index, y, nt, w.x.data(), s_);
  layers(w, n, [&](int l, Workspace& ws) {
    kernels::rows_to_heads(ws.qkv.data() + D, ws.kh.data(), batch, int(L), H, Dh, s_, 3 * D);
    kernels::rows_to_heads(ws.qkv.data() + 2 * D, ws.vh.data(), batch, int(L), H, Dh, s_, 3 * D);
    const kernels::QueryBlock q{ws.qkv.data(), static_cast<int>(batch), H, int(L), Dh, 3 * D};
    const kernels::ContextKV ctx{cache.k[l].data(), cache.v[l].data(), d.context_offset.data(), d.context_len.data(),
                                 index.task.data()};
    const kernels::BufferKV buf{ws.kh.data(), ws.vh.data(), int(L), int(nt), kernels::BufferMask::kTeacherForcing};
    wide::attention(q, ctx, buf, {ws.a.data(), ws.lse.data(), true}, s_);
  });
  // The targets' rows (the last nt of each sequence), the final LayerNorm and the head.
  const std::int64_t targets = batch * nt;
  kernels::gather_rows(w.x.data(), w.t.data(), targets, D, nt, L, nt, s_);
  wide::layer_norm(w.t.data(), nullptr, m_.tensor("backbone.norm.weight"), m_.tensor("backbone.norm.bias"), w.t.data(),
                   targets, D, s_);
  wide::linear(w.t.data(), m_.tensor("head.head.0.weight"), m_.tensor("head.head.0.bias"), nullptr, w.f.data(), targets,
               D, c_.d_ff, Epilogue::kGelu, s_);
  wide::linear(w.f.data(), m_.tensor("head.head.2.weight"), m_.tensor("head.head.2.bias"), nullptr, w.mix.data(),
               targets, c_.d_ff, 3 * c_.num_components, Epilogue::kNone, s_);
  kernels::mixture_log_density(w.mix.data(), m_.mixture_biases(), y, targets, log_density, s_);
  ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(s_));  // w and index are freed on return
}

}  // namespace artabpfn::engine
