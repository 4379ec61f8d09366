#pragma once
// Scratch device memory for n rows of a layer (and the head of up to n rows), float32 path.
#include <cstddef>
#include <cstdint>

#include "artabpfn/model_config.hpp"
#include "kernels/device_buffer.hpp"

namespace artabpfn::engine {

struct Workspace {
  // qkv [n, 3D]: q | k | v of each row. Attention reads q there and writes a ([n, D] rows, heads
  // side by side) directly; kh, vh hold the teacher-forcing buffer K/V in heads layout.
  kernels::DeviceBuffer<float> x, t1, h, qkv, a, h2, f, mix, kh, vh, o1, o2, lse, lse1, lse2;

  Workspace(std::int64_t n, const ModelConfig& c, bool buffer_heads)
      : x(sz(n, c.d_model)), t1(sz(n, c.d_model)), h(sz(n, c.d_model)),
        qkv(sz(n, 3 * c.d_model)), a(sz(n, c.d_model)), h2(sz(n, c.d_model)), f(sz(n, c.d_ff)),
        mix(sz(n, 3 * c.num_components)), kh(buffer_heads ? sz(n, c.d_model) : 0),
        vh(buffer_heads ? sz(n, c.d_model) : 0), o1(sz(n, c.d_model)), o2(sz(n, c.d_model)),
        lse(sz(n, c.n_heads)), lse1(sz(n, c.n_heads)), lse2(sz(n, c.n_heads)) {}

  // Floats per row, for memory planning.
  static std::int64_t floats_per_row(const ModelConfig& c) {
    return 14 * c.d_model + c.d_ff + 3 * c.num_components + 3 * c.n_heads;
  }

 private:
  static std::size_t sz(std::int64_t n, int width) { return static_cast<std::size_t>(n) * static_cast<std::size_t>(width); }
};

}  // namespace artabpfn::engine
