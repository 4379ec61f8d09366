#pragma once
// The launches of the network's layers on one stream: every layer on a block of rows, the final
// LayerNorm and mixture head, and the attention in the context's mode. Marks (engine/stage.hpp)
// says where each stage of a profiled decode step begins; NoStageMarks for every job.
#include <cstdint>

#include "engine/context_options.hpp"
#include "engine/device_model.hpp"
#include "engine/stage.hpp"
#include "engine/workspace.hpp"
#include "kernels/attention.hpp"
#include "kernels/layer.hpp"
#include "kernels/rows.hpp"

namespace artabpfn::engine {

template <class Marks = NoStageMarks>
class LayerRunner {
 public:
  LayerRunner(const DeviceModel& model, const ContextOptions& options, cudaStream_t stream, Marks marks = {})
      : LayerRunner(model, options, stream, options.fuse_epilogues, marks) {}
  // norms_in_products: each LayerNorm in the launch of the product before it (options.fuse_epilogues
  // above); false beside the cluster step, whose wave holds the GPCs linear_layer_norm's clusters
  // would wait for.
  LayerRunner(const DeviceModel& model, const ContextOptions& options, cudaStream_t stream, bool norms_in_products,
              Marks marks = {})
      : m_(model), c_(model.config()), options_(options), s_(stream), norms_in_products_(norms_in_products),
        marks_(marks) {}

  const DeviceModel& model() const { return m_; }
  const ModelConfig& config() const { return c_; }
  const ContextOptions& options() const { return options_; }
  cudaStream_t stream() const { return s_; }

  // The launches queued from here on, up to the next mark, belong to `stage`.
  void mark(Stage stage) { marks_.mark(stage, s_); }

  // Runs every layer on x [n, D] in place (w.x, or a slice of it), with w's other buffers as
  // scratch from row 0; attend(l, w) fills w.a from w.qkv for layer l.
  // Per layer: the folded feature map, q|k|v, attention, out_proj, ff.0 (+ GELU), ff.2, each of
  // the three LayerNorms after the product before it. appends (a decode step: one per layer):
  // the K/V append after q|k|v. options_.fuse_epilogues: the LayerNorms and the append in the
  // launch of the product before them where the kernels can (6 launches a decode step's layer);
  // else separate launches (10); bitwise the same. norms_in_products_ false: the LayerNorms apart.
  template <class Attend>
  void layers(Workspace& w, float* x, std::int64_t n, Attend&& attend, const kernels::KVAppend* appends = nullptr) {
    using kernels::Epilogue;
    const int D = c_.d_model;
    for (int l = 0; l < c_.n_layers; ++l) {
      const LayerWeights& L = m_.layer(l);
      mark(Stage::kProjections);
      product_then_norm(x, L.feature, nullptr, D, x, L.norm1_weight, L.norm1_bias, w.h.data(), n);
      mark(Stage::kProjections);
      if (appends != nullptr && options_.fuse_epilogues) {
        kernels::linear_append_kv(w.h.data(), L.qkv, w.qkv.data(), n, D, appends[l], s_);
      } else {
        kernels::linear(w.h.data(), L.qkv, nullptr, nullptr, w.qkv.data(), n, D, 3 * D, Epilogue::kNone, s_);
        if (appends != nullptr) {  // buffer t-1's K/V join the cache before the step's attention
          mark(Stage::kKvAppend);
          kernels::append_buffer_kv_step(w.qkv.data(), n, appends[l], s_);
        }
      }
      attend(l, w);
      mark(Stage::kProjections);
      product_then_norm(w.a.data(), L.out, nullptr, D, w.h.data(), L.norm2_weight, L.norm2_bias, w.h2.data(), n);
      mark(Stage::kFeedForward);
      kernels::linear(w.h2.data(), L.ff_in, L.ff_in_bias, nullptr, w.f.data(), n, D, c_.d_ff, Epilogue::kGelu, s_);
      product_then_norm(w.f.data(), L.ff_out, L.ff_out_bias, c_.d_ff, w.h2.data(), L.norm3_weight, L.norm3_bias, x, n);
    }
  }

  // out = LN(residual + (x W^T + bias)) for x [n, in]: one launch (fused) or two; the LayerNorm
  // launch counts to the layer_norm stage.
  void product_then_norm(const float* x, const float* weight, const float* bias, int in, const float* residual,
                         const float* ln_weight, const float* ln_bias, float* out, std::int64_t n) {
    const int D = c_.d_model;
    if (norms_in_products_) {
      kernels::linear_layer_norm(x, weight, bias, residual, ln_weight, ln_bias, out, n, in, D, s_);
      return;
    }
    kernels::linear(x, weight, bias, nullptr, out, n, in, D, kernels::Epilogue::kNone, s_);
    mark(Stage::kLayerNorm);
    kernels::layer_norm(residual, out, ln_weight, ln_bias, out, n, D, s_);
  }

  // Final LayerNorm (in place) and mixture head on z [n, D]; hidden [n, d_ff], r [n, 3K].
  void head(float* z, float* hidden, float* r, std::int64_t n) {
    using kernels::Epilogue;
    const int D = c_.d_model;
    kernels::layer_norm(z, nullptr, m_.tensor("backbone.norm.weight"), m_.tensor("backbone.norm.bias"), z, n, D, s_);
    kernels::linear(z, m_.tensor("head.head.0.weight"), m_.tensor("head.head.0.bias"), nullptr, hidden, n, D,
                    c_.d_ff, Epilogue::kGelu, s_);
    kernels::linear(hidden, m_.tensor("head.head.2.weight"), m_.tensor("head.head.2.bias"), nullptr, r, n, c_.d_ff,
                    3 * c_.num_components, Epilogue::kNone, s_);
  }

  // Attention of q (rows layout in w.qkv) over context and buffer into w.a [B * Lq, D] rows.
  void attend(const kernels::QueryBlock& q, const kernels::ContextKV& context, const kernels::BufferKV& buffer,
              Workspace& w) {
    if (options_.attention != AttentionMode::kSplit) {  // fused, and the reencode baseline's passes
      mark(Stage::kAttention);
      kernels::fused_attention(q, context, buffer, {w.a.data(), w.lse.data(), true}, s_);
      return;
    }
    mark(Stage::kContextAttention);
    kernels::shared_context_attention(q, context, {w.o1.data(), w.lse1.data(), true}, s_);
    mark(Stage::kBufferAttention);
    kernels::buffer_attention(q, buffer, {w.o2.data(), w.lse2.data(), true}, s_);
    mark(Stage::kMerge);
    kernels::merge_attention_states(w.o1.data(), w.lse1.data(), w.o2.data(), w.lse2.data(),
                                    std::int64_t(q.batch) * q.heads * q.queries, q.head_dim,
                                    {w.a.data(), w.lse.data(), true}, s_);
  }

 private:
  const DeviceModel& m_;
  const ModelConfig& c_;
  const ContextOptions& options_;
  cudaStream_t s_;
  const bool norms_in_products_;
  Marks marks_;
};

}  // namespace artabpfn::engine
