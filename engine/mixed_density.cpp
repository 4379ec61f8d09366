#include "engine/mixed_density.hpp"

#include "kernels/attention.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/head.hpp"
#include "kernels/layer.hpp"
#include "kernels/rows.hpp"
#include "kernels/mixed.hpp"

namespace artabpfn::engine {

using kernels::DeviceBuffer;
using kernels::Epilogue;

// Scratch for n rows: the double activations, the float32 q|k|v, attention output and buffer
// K/V (heads layout), and the head's float32 mixture rows.
struct MixedDensity::Workspace {
  DeviceBuffer<double> residual, product, feature_out, norm1_out, norm2_out, hidden;
  DeviceBuffer<float> qkv, attention_out, attention_lse, buffer_k_heads, buffer_v_heads, mixture;
  Workspace(std::int64_t n, const ModelConfig& c)
      : residual(sz(n, c.d_model)), product(sz(n, c.d_model)), feature_out(sz(n, c.d_model)), norm1_out(sz(n, c.d_model)), norm2_out(sz(n, c.d_model)),
        hidden(sz(n, c.d_ff)), qkv(sz(n, 3 * c.d_model)), attention_out(sz(n, c.d_model)), attention_lse(sz(n, c.n_heads)),
        buffer_k_heads(sz(n, c.d_model)), buffer_v_heads(sz(n, c.d_model)), mixture(sz(n, 3 * c.num_components)) {}
  static std::size_t sz(std::int64_t n, int width) { return static_cast<std::size_t>(n) * static_cast<std::size_t>(width); }
  static std::int64_t floats_per_row(const ModelConfig& c) {
    return 2 * (5 * c.d_model + c.d_ff) + 6 * c.d_model + c.n_heads + 3 * c.num_components;
  }
};

std::int64_t MixedDensity::floats_per_sequence(const ModelConfig& c, std::int64_t nt) {
  return 2 * nt * Workspace::floats_per_row(c) + 4 * nt + 8;  // + values, log densities, indices
}

// Every layer on w.residual [n, D] in place; attend(l, w) fills w.attention_out from w.qkv for layer l.
template <class Attend>
void MixedDensity::layers(Workspace& w, std::int64_t n, Attend&& attend) {
  namespace mixed = kernels::mixed;
  const int D = config_.d_model;
  for (int l = 0; l < config_.n_layers; ++l) {
    const LayerWeights& L = model_.layer(l);
    const float* feature_v = model_.tensor(layer_tensor(l, "attn_features.v_proj.weight"));
    const float* feature_out = model_.tensor(layer_tensor(l, "attn_features.out_proj.weight"));
    mixed::linear(w.residual.data(), feature_v, nullptr, nullptr, w.product.data(), n, D, D, Epilogue::kNone, stream_);
    mixed::linear(w.product.data(), feature_out, nullptr, nullptr, w.feature_out.data(), n, D, D, Epilogue::kNone, stream_);
    mixed::layer_norm(w.residual.data(), w.feature_out.data(), L.norm1_weight, L.norm1_bias, w.norm1_out.data(), n, D, stream_);
    mixed::linear(w.norm1_out.data(), L.qkv, nullptr, nullptr, w.qkv.data(), n, D, 3 * D, Epilogue::kNone, stream_);
    attend(l, w);
    mixed::linear(w.attention_out.data(), L.out, nullptr, nullptr, w.product.data(), n, D, D, Epilogue::kNone, stream_);
    mixed::layer_norm(w.norm1_out.data(), w.product.data(), L.norm2_weight, L.norm2_bias, w.norm2_out.data(), n, D, stream_);
    mixed::linear(w.norm2_out.data(), L.ff_in, L.ff_in_bias, nullptr, w.hidden.data(), n, D, config_.d_ff, Epilogue::kGelu, stream_);
    mixed::linear(w.hidden.data(), L.ff_out, L.ff_out_bias, nullptr, w.product.data(), n, config_.d_ff, D, Epilogue::kNone, stream_);
    mixed::layer_norm(w.norm2_out.data(), w.product.data(), L.norm3_weight, L.norm3_bias, w.residual.data(), n, D, stream_);
  }
}

ContextCache MixedDensity::prefill(const TaskData& d) {
  const std::int64_t n = d.context_rows;
  ContextCache cache(config_.n_layers, n, config_.d_model);
  if (n == 0) return cache;
  Workspace w(n, config_);
  embed_context_rows(model_.embedding(), d, w.residual.data(), stream_);
  layers(w, n, [&](int l, Workspace& ws) {
    const LayerAttention job = store_prefill_kv(ws.qkv.data(), cache, l, d, config_.n_heads, config_.head_dim(), stream_);
    kernels::mixed::attention(job.q, job.context, job.buffer, {ws.attention_out.data(), ws.attention_lse.data(), true}, stream_);
  });
  ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(stream_));  // w is freed on return
  return cache;
}

void MixedDensity::teacher_forcing(const TaskData& d, const ContextCache& cache,
                                   const std::vector<std::int32_t>& seq_task, const float* y, std::int64_t nt,
                                   float* log_density) {
  namespace mixed = kernels::mixed;
  const std::int64_t batch = static_cast<std::int64_t>(seq_task.size()), L = 2 * nt, n = batch * L;
  const int D = config_.d_model;
  Workspace w(n, config_);
  const TeacherForcingIndex index(d, seq_task, nt, stream_);
  embed_teacher_forcing_rows(model_.embedding(), d, index, y, nt, w.residual.data(), stream_);
  layers(w, n, [&](int l, Workspace& ws) {
    const LayerAttention job = teacher_forcing_attention(ws.qkv.data(), ws.buffer_k_heads.data(), ws.buffer_v_heads.data(), cache, l, d, index,
                                                         nt, config_.n_heads, config_.head_dim(), stream_);
    mixed::attention(job.q, job.context, job.buffer, {ws.attention_out.data(), ws.attention_lse.data(), true}, stream_);
  });
  // The targets' rows (the last nt of each sequence), the final LayerNorm and the head.
  const std::int64_t targets = batch * nt;
  kernels::gather_rows(w.residual.data(), w.product.data(), targets, D, nt, L, nt, stream_);
  mixed::layer_norm(w.product.data(), nullptr, model_.tensor("backbone.norm.weight"), model_.tensor("backbone.norm.bias"), w.product.data(),
                   targets, D, stream_);
  mixed::linear(w.product.data(), model_.tensor("head.head.0.weight"), model_.tensor("head.head.0.bias"), nullptr, w.hidden.data(), targets,
               D, config_.d_ff, Epilogue::kGelu, stream_);
  mixed::linear(w.hidden.data(), model_.tensor("head.head.2.weight"), model_.tensor("head.head.2.bias"), nullptr, w.mixture.data(),
               targets, config_.d_ff, 3 * config_.num_components, Epilogue::kNone, stream_);
  kernels::mixture_log_density(w.mixture.data(), model_.mixture_biases(), y, targets, log_density, stream_);
  ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(stream_));  // w and index are freed on return
}

}  // namespace artabpfn::engine
