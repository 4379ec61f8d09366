#include "engine/mixed_density.hpp"

#include "kernels/attention.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/head.hpp"
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
  ContextCache cache(c_.n_layers, n, c_.d_model);
  if (n == 0) return cache;
  Workspace w(n, c_);
  embed_context_rows(m_.embedding(), d, w.x.data(), s_);
  layers(w, n, [&](int l, Workspace& ws) {
    const LayerAttention job = store_prefill_kv(ws.qkv.data(), cache, l, d, c_.n_heads, c_.head_dim(), s_);
    kernels::wide::attention(job.q, job.context, job.buffer, {ws.a.data(), ws.lse.data(), true}, s_);
  });
  ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(s_));  // w is freed on return
  return cache;
}

void MixedDensity::teacher_forcing(const TaskData& d, const ContextCache& cache,
                                   const std::vector<std::int32_t>& seq_task, const float* y, std::int64_t nt,
                                   float* log_density) {
  namespace wide = kernels::wide;
  const std::int64_t batch = static_cast<std::int64_t>(seq_task.size()), L = 2 * nt, n = batch * L;
  const int D = c_.d_model;
  Workspace w(n, c_);
  const TeacherForcingIndex index(d, seq_task, nt, s_);
  embed_teacher_forcing_rows(m_.embedding(), d, index, y, nt, w.x.data(), s_);
  layers(w, n, [&](int l, Workspace& ws) {
    const LayerAttention job = teacher_forcing_attention(ws.qkv.data(), ws.kh.data(), ws.vh.data(), cache, l, d, index,
                                                         nt, c_.n_heads, c_.head_dim(), s_);
    wide::attention(job.q, job.context, job.buffer, {ws.a.data(), ws.lse.data(), true}, s_);
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
