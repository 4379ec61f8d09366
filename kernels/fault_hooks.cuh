#pragma once
// The points where the conformance mutation tests plant faults in the CUDA kernels
// (docs/conformance_vectors.md, "Mutation tests"), as one interface: a kernel source with hook
// points keeps a FaultHooks object in its launch parameters (as their base class, so an empty one
// takes no bytes) and passes the values below through it. Each hook is named for the value it
// passes.
//
// In the production build FaultHooks is NoFaults: every hook returns its argument or does nothing
// and the object is empty, so the kernels compile to the code they would have without hooks. The
// CUDA mutant build (conformance_cuda_adapter_mutants, whose hooked sources
// conformance/cuda/CMakeLists.txt lists) defines ARTABPFN_PLANTED_FAULTS, which makes FaultHooks
// the PlantedFaults of conformance/cuda/planted_faults.cuh: ARTABPFN_MUTANT, read at every launch,
// chooses the fault.
#include <cuda_runtime.h>

#include <cstdint>

namespace artabpfn::kernels {

struct NoFaults {
  // Host, at a launch: the hooks of this launch.
  static NoFaults at_launch() { return {}; }

  // Host: the attention's score scale, 1 / sqrt(Dh).
  constexpr float score_scale(float scale) const { return scale; }
  // Host: the row tiles of one head that an attention launch covers.
  constexpr std::int64_t launched_row_tiles(std::int64_t row_tiles) const { return row_tiles; }

  // Device: the sample whose task's context the rows of sample b read.
  __device__ constexpr std::int64_t context_sample(std::int64_t b) const { return b; }
  // Device: the keys a row takes from its task's context of nc rows, and the buffer rows query i
  // takes (visible: the mask's count; kernels/attention.hpp).
  __device__ constexpr int context_rows_seen(int nc) const { return nc; }
  __device__ constexpr int buffer_rows_seen(int visible, bool /*teacher_forcing*/, int /*length*/, int /*i*/) const {
    return visible;
  }
  // Device: the rows of a K/V source staged for a row that takes `seen` of its `rows` rows (a
  // planted count past the rows reads the tile's zero padding, never memory past them).
  __device__ constexpr int staged_rows(int seen, int /*rows*/) const { return seen; }
  // Device: a score as the kernel keeps it, and the factor the running output is rescaled by when
  // the running max rises (alpha: the sum's factor; detail::online_update).
  __device__ constexpr float kept_score(float s) const { return s; }
  __device__ constexpr float output_factor(float alpha) const { return alpha; }
  // Device: a row's state (unnormalised output, running sum) after each key's update.
  template <int kChunks>
  __device__ constexpr void updated_state(float4 (&)[kChunks], float& /*l*/) const {}
  // Device: the context phase's operands. context_phase_queries sets a row's queries as the
  // context phase reads them and returns what restore_queries puts back after it;
  // staged_context_keys is called by the whole block on the K and V rows of a context step once
  // they are staged (count floats each); context_weight is the softmax weight the value takes.
  struct Unchanged {};
  template <int kChunks>
  __device__ constexpr Unchanged context_phase_queries(float4 (&)[kChunks]) const {
    return {};
  }
  template <int kChunks>
  __device__ constexpr void restore_queries(Unchanged, float4 (&)[kChunks]) const {}
  __device__ constexpr void staged_context_keys(float* /*k*/, float* /*v*/, int /*count*/) const {}
  __device__ constexpr float context_weight(float p) const { return p; }
  // Device: an output element of the context-only attention (m: the row's max, -inf where the
  // row saw no key), the max a row's LSE is written from (m: the merged max of the row's key
  // partitions, first_m: the first partition's), and the LSE an attention kernel stores.
  __device__ constexpr float context_only_output(float value, float /*m*/) const { return value; }
  __device__ constexpr float lse_max(float m, float /*first_m*/) const { return m; }
  __device__ constexpr float stored_lse(float lse) const { return lse; }

  // Device: the AR token position of a decode step's buffer row (kernels/rows.hpp).
  __device__ constexpr int buffer_ar_position(int position) const { return position; }
};

}  // namespace artabpfn::kernels

#ifdef ARTABPFN_PLANTED_FAULTS
#include "conformance/cuda/planted_faults.cuh"
namespace artabpfn::kernels {
using FaultHooks = PlantedFaults;
}  // namespace artabpfn::kernels
#else
namespace artabpfn::kernels {
using FaultHooks = NoFaults;
}  // namespace artabpfn::kernels
#endif
