#pragma once
// Scratch device memory for n rows of a layer (and the head of up to n rows), float32 path.
#include <cstddef>
#include <cstdint>

#include "artabpfn/model_config.hpp"
#include "kernels/device_buffer.hpp"

namespace artabpfn::engine {

struct Workspace {
  // Per layer: residual [n, D] is the layer's input and output; norm1_out = LN1 (after the
  // feature map), qkv [n, 3D] = q | k | v of each row, attention_out [n, D] (heads side by side;
  // attention reads q in qkv directly), norm2_out = LN2, hidden [n, d_ff] the feed-forward's GELU
  // rows. context_out/lse and buffer_out/lse: the split path's partial states, merged into
  // attention_out/lse. buffer_k_heads, buffer_v_heads: teacher forcing's buffer K/V in heads
  // layout. head_rows: the rows gathered for the head; mixture [n, 3K]: the head's output.
  kernels::DeviceBuffer<float> residual, head_rows, norm1_out, qkv, attention_out, norm2_out, hidden, mixture,
      buffer_k_heads, buffer_v_heads, context_out, buffer_out, attention_lse, context_lse, buffer_lse;

  Workspace(std::int64_t n, const ModelConfig& c, bool buffer_heads)
      : residual(sz(n, c.d_model)), head_rows(sz(n, c.d_model)), norm1_out(sz(n, c.d_model)),
        qkv(sz(n, 3 * c.d_model)), attention_out(sz(n, c.d_model)), norm2_out(sz(n, c.d_model)), hidden(sz(n, c.d_ff)),
        mixture(sz(n, 3 * c.num_components)), buffer_k_heads(buffer_heads ? sz(n, c.d_model) : 0),
        buffer_v_heads(buffer_heads ? sz(n, c.d_model) : 0), context_out(sz(n, c.d_model)), buffer_out(sz(n, c.d_model)),
        attention_lse(sz(n, c.n_heads)), context_lse(sz(n, c.n_heads)), buffer_lse(sz(n, c.n_heads)) {}

  // Floats per row, for memory planning.
  static std::int64_t floats_per_row(const ModelConfig& c) {
    return 14 * c.d_model + c.d_ff + 3 * c.num_components + 3 * c.n_heads;
  }

 private:
  static std::size_t sz(std::int64_t n, int width) { return static_cast<std::size_t>(n) * static_cast<std::size_t>(width); }
};

}  // namespace artabpfn::engine
