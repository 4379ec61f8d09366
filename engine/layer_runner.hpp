#pragma once
// The launches of the network's layers on one stream: every layer on a block of rows, the final
// LayerNorm and mixture head, and the attention in the context's mode. Marks (engine/stage.hpp)
// says where each stage of a profiled decode step begins; NoStageMarks for every job.
#include <cstdint>

#include "engine/session_options.hpp"
#include "engine/device_model.hpp"
#include "engine/product.hpp"
#include "engine/stage.hpp"
#include "engine/workspace.hpp"
#include "kernels/attention.hpp"
#include "kernels/layer.hpp"
#include "kernels/rows.hpp"

namespace artabpfn::engine {

template <class Marks = NoStageMarks>
class LayerRunner {
 public:
  LayerRunner(const DeviceModel& model, const SessionOptions& options, cudaStream_t stream, Marks marks = {})
      : LayerRunner(model, options, stream, options.fuse_epilogues, marks) {}
  // fuse_epilogues: each LayerNorm in the launch of the product before it (options.fuse_epilogues
  // above); false beside the cluster step, whose wave holds the GPCs linear_layer_norm's clusters
  // would wait for.
  LayerRunner(const DeviceModel& model, const SessionOptions& options, cudaStream_t stream, bool fuse_epilogues,
              Marks marks = {})
      : model_(model), config_(model.config()), options_(options), stream_(stream),
        tensor_cores_(tensor_core_arithmetic(options.precision).has_value()),
        fuse_epilogues_(fuse_epilogues && !tensor_cores_), marks_(marks) {}

  const DeviceModel& model() const { return model_; }
  const ModelConfig& config() const { return config_; }
  const SessionOptions& options() const { return options_; }
  cudaStream_t stream() const { return stream_; }

  // The launches queued from here on, up to the next mark, belong to `stage`.
  void mark(Stage stage) { marks_.mark(stage, stream_); }

  // Runs every layer on x [n, D] in place (w.residual, or a slice of it), with w's other buffers as
  // scratch from row 0; attend(l, w) fills w.attention_out from w.qkv for layer l.
  // Per layer: the folded feature map, q|k|v, attention, out_proj, ff.0 (+ GELU), ff.2, each of
  // the three LayerNorms after the product before it. appends (a decode step: one per layer):
  // the K/V append after q|k|v. options_.fuse_epilogues: the LayerNorms and the append in the
  // launch of the product before them where the kernels can (6 launches a decode step's layer);
  // else separate launches (10); bitwise the same. fuse_epilogues_ false: the LayerNorms apart.
  template <class Attend>
  void layers(Workspace& w, float* x, std::int64_t n, Attend&& attend, const kernels::KVAppend* appends = nullptr) {
    using kernels::Epilogue;
    const int D = config_.d_model;
    for (int l = 0; l < config_.n_layers; ++l) {
      const LayerWeights& L = model_.layer(l);
      mark(Stage::kProjections);
      product_then_norm(x, L.feature, nullptr, D, x, L.norm1_weight, L.norm1_bias, w.norm1_out.data(), n);
      mark(Stage::kProjections);
      if (appends != nullptr && options_.fuse_epilogues && !tensor_cores_) {
        kernels::linear_append_kv(w.norm1_out.data(), L.qkv, w.qkv.data(), n, D, appends[l], stream_);
      } else {
        product(w.norm1_out.data(), L.qkv, nullptr, w.qkv.data(), n, D, 3 * D, Epilogue::kNone);
        if (appends != nullptr) {  // buffer t-1's K/V join the cache before the step's attention
          mark(Stage::kKvAppend);
          kernels::append_buffer_kv_step(w.qkv.data(), n, appends[l], stream_);
        }
      }
      attend(l, w);
      mark(Stage::kProjections);
      product_then_norm(w.attention_out.data(), L.out, nullptr, D, w.norm1_out.data(), L.norm2_weight, L.norm2_bias, w.norm2_out.data(), n);
      mark(Stage::kFeedForward);
      product(w.norm2_out.data(), L.ff_in, L.ff_in_bias, w.hidden.data(), n, D, config_.d_ff, Epilogue::kGelu);
      product_then_norm(w.hidden.data(), L.ff_out, L.ff_out_bias, config_.d_ff, w.norm2_out.data(), L.norm3_weight, L.norm3_bias, x, n);
    }
  }

  // out = LN(residual + (x W^T + bias)) for x [n, in]: one launch (fused; float32 only) or two;
  // the LayerNorm launch counts to the layer_norm stage.
  void product_then_norm(const float* x, const float* weight, const float* bias, int in, const float* residual,
                         const float* ln_weight, const float* ln_bias, float* out, std::int64_t n) {
    const int D = config_.d_model;
    if (fuse_epilogues_) {
      kernels::linear_layer_norm(x, weight, bias, residual, ln_weight, ln_bias, out, n, in, D, stream_);
      return;
    }
    product(x, weight, bias, out, n, in, D, kernels::Epilogue::kNone);
    mark(Stage::kLayerNorm);
    kernels::layer_norm(residual, out, ln_weight, ln_bias, out, n, D, stream_);
  }

  // Final LayerNorm (in place) and mixture head on z [n, D]; hidden [n, d_ff], r [n, 3K].
  void head(float* z, float* hidden, float* r, std::int64_t n) {
    using kernels::Epilogue;
    const int D = config_.d_model;
    kernels::layer_norm(z, nullptr, model_.tensor("backbone.norm.weight"), model_.tensor("backbone.norm.bias"), z, n, D, stream_);
    product(z, model_.tensor("head.head.0.weight"), model_.tensor("head.head.0.bias"), hidden, n, D, config_.d_ff,
            Epilogue::kGelu);
    product(hidden, model_.tensor("head.head.2.weight"), model_.tensor("head.head.2.bias"), r, n, config_.d_ff,
            3 * config_.num_components, Epilogue::kNone);
  }

  // y = act(x W^T + bias) for x [n, in] in the session's precision (engine/product.hpp).
  void product(const float* x, const float* weight, const float* bias, float* y, std::int64_t n, int in, int out,
               kernels::Epilogue act) {
    engine::product(options_.precision, x, weight, bias, y, n, in, out, act, stream_);
  }

  // Attention of q (rows layout in w.qkv) over context and buffer into w.attention_out [B * Lq, D] rows.
  void attend(const kernels::QueryBlock& q, const kernels::ContextKV& context, const kernels::BufferKV& buffer,
              Workspace& w) {
    if (options_.attention != AttentionMode::kSplit) {  // fused, and the reencode baseline's passes
      mark(Stage::kAttention);
      kernels::fused_attention(q, context, buffer, {w.attention_out.data(), w.attention_lse.data(), true}, stream_);
      return;
    }
    mark(Stage::kContextAttention);
    kernels::shared_context_attention(q, context, {w.context_out.data(), w.context_lse.data(), true}, stream_);
    mark(Stage::kBufferAttention);
    kernels::buffer_attention(q, buffer, {w.buffer_out.data(), w.buffer_lse.data(), true}, stream_);
    mark(Stage::kMerge);
    kernels::merge_attention_states(w.context_out.data(), w.context_lse.data(), w.buffer_out.data(), w.buffer_lse.data(),
                                    std::int64_t(q.batch) * q.heads * q.queries, q.head_dim,
                                    {w.attention_out.data(), w.attention_lse.data(), true}, stream_);
  }

 private:
  const DeviceModel& model_;
  const ModelConfig& config_;
  const SessionOptions& options_;
  cudaStream_t stream_;
  const bool tensor_cores_;  // tf32 and tf32x3: the products on the tensor cores, none fused with an epilogue
  const bool fuse_epilogues_;
  Marks marks_;
};

}  // namespace artabpfn::engine
