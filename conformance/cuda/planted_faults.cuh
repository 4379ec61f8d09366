#pragma once
// The faults of the CUDA mutation tests behind the kernels' hook points: FaultHooks in the build
// of conformance_cuda_adapter_mutants only (kernels/fault_hooks.cuh includes this header there).
// The host reads ARTABPFN_MUTANT at every launch (at_launch) and the launch parameters carry the
// choice to the device. The names are those of conformance/float32_cpu/mutants.hpp.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace artabpfn::kernels {

class PlantedFaults {
 public:
  enum Fault : int {
    kTf32Context = 1 << 0,         // QK and PV with TF32 operands (10-bit mantissa) in the context phase
    kArTokenShift = 1 << 1,        // decode: buffer j takes ar_tokens[(j+1) mod L]
    kNanEmptyContext = 1 << 2,     // shared_context_attention: 0 / 0 for an empty context
    kFirstSampleContext = 1 << 3,  // every sample reads batch element 0's context
    kNoScoreScale = 1 << 4,        // scores not scaled by 1/sqrt(Dh)
    kTargetSeesItself = 1 << 5,    // teacher forcing: target t sees buffer t
    kLseBase2 = 1 << 6,            // LSE in base 2
    kGridYLimit = 1 << 7,          // a (heads, row tiles) grid whose tiles past 65535 in y never run
    kNoRescale = 1 << 8,           // the running output not rescaled when the running max rises
    kLastBlockMaskPlusOne = 1 << 9,   // a length mask (context, decode buffer) takes one zero padding key
    kLastBlockMaskMinusOne = 1 << 10,  // a length mask drops the last real key
    kLseFirstBlockMax = 1 << 11,   // the LSE written from warp 0's max (the first key partition's)
    kTfMaskTileBoundary = 1 << 12,  // teacher forcing: a limit on a 64-key tile boundary admits the next tile
    kBf16Accumulate = 1 << 13,     // the running output and sum kept in BF16 (judged as a BF16 kernel)
    kFp16ScoreOverflow = 1 << 14,  // scores kept in FP16: infinite past 65504 (judged as an FP16 kernel)
  };

  static PlantedFaults at_launch() {
    PlantedFaults planted;
    const char* name = std::getenv("ARTABPFN_MUTANT");
    if (name == nullptr || *name == '\0') return planted;
    struct Entry {
      const char* name;
      int fault;
    };
    static const Entry table[] = {{"tf32_context", kTf32Context},
                                  {"ar_token_shift", kArTokenShift},
                                  {"nan_empty_context", kNanEmptyContext},
                                  {"first_sample_context", kFirstSampleContext},
                                  {"no_score_scale", kNoScoreScale},
                                  {"target_sees_itself", kTargetSeesItself},
                                  {"lse_base2", kLseBase2},
                                  {"grid_y_limit", kGridYLimit},
                                  {"no_rescale", kNoRescale},
                                  {"last_block_mask_plus_one", kLastBlockMaskPlusOne},
                                  {"last_block_mask_minus_one", kLastBlockMaskMinusOne},
                                  {"lse_first_block_max", kLseFirstBlockMax},
                                  {"tf_mask_tile_boundary", kTfMaskTileBoundary},
                                  {"bf16_accumulate", kBf16Accumulate},
                                  {"fp16_score_overflow", kFp16ScoreOverflow}};
    for (const Entry& e : table)
      if (std::strcmp(name, e.name) == 0) planted.faults_ = e.fault;
    return planted;
  }

  float score_scale(float scale) const { return planted(kNoScoreScale) ? 1.0f : scale; }
  // As a (heads, row tiles) 2-D grid would: row tiles past 65535 in y are silently dropped.
  std::int64_t launched_row_tiles(std::int64_t row_tiles) const {
    return planted(kGridYLimit) && row_tiles > 65535 ? 65535 : row_tiles;
  }

  __device__ std::int64_t context_sample(std::int64_t b) const { return planted(kFirstSampleContext) ? 0 : b; }
  __device__ int context_rows_seen(int nc) const { return length_mask(nc); }
  __device__ int buffer_rows_seen(int visible, bool teacher_forcing, int length, int i) const {
    if (!teacher_forcing) return length_mask(visible);
    if (planted(kTargetSeesItself)) return i < length ? i + 1 : i - length + 1;
    if (planted(kTfMaskTileBoundary) && visible > 0 && visible % kTile == 0 && visible < length)
      return min(visible + kTile, length);  // the tile that starts at the limit taken as visible
    return visible;
  }
  // A count past the source's rows stages nothing more: the row reads the tile's zero padding.
  __device__ int staged_rows(int seen, int rows) const { return min(seen, rows); }
  __device__ float kept_score(float s) const {
    return planted(kFp16ScoreOverflow) ? __half2float(__float2half_rn(s)) : s;  // +-inf past 65504
  }
  __device__ float output_factor(float alpha) const { return planted(kNoRescale) ? 1.f : alpha; }
  template <int kChunks>
  __device__ void updated_state(float4 (&o)[kChunks], float& l) const {
    if (!planted(kBf16Accumulate)) return;
    for (int c = 0; c < kChunks; ++c)
      o[c] = make_float4(bf16_round(o[c].x), bf16_round(o[c].y), bf16_round(o[c].z), bf16_round(o[c].w));
    l = bf16_round(l);
  }

  template <int kChunks>
  struct Saved {
    float4 q[kChunks];
  };
  template <int kChunks>
  __device__ Saved<kChunks> context_phase_queries(float4 (&q)[kChunks]) const {
    Saved<kChunks> saved;
    for (int c = 0; c < kChunks; ++c) {
      saved.q[c] = q[c];
      if (planted(kTf32Context)) q[c] = tf32_round(q[c]);
    }
    return saved;
  }
  template <int kChunks>
  __device__ void restore_queries(const Saved<kChunks>& saved, float4 (&q)[kChunks]) const {
    for (int c = 0; c < kChunks; ++c) q[c] = saved.q[c];
  }
  __device__ void staged_context_keys(float* k, float* v, int count) const {
    if (!planted(kTf32Context)) return;  // uniform over the block
    for (int x = static_cast<int>(threadIdx.x); x < count; x += static_cast<int>(blockDim.x)) {
      k[x] = tf32_round(k[x]);
      v[x] = tf32_round(v[x]);
    }
    __syncthreads();
  }
  __device__ float context_weight(float p) const { return planted(kTf32Context) ? tf32_round(p) : p; }
  __device__ float context_only_output(float value, float m) const {
    // A row without keys divides its zero sum by its zero weight: 0 / 0, the quiet NaN 0x7fffffff.
    return m == -INFINITY && planted(kNanEmptyContext) ? __int_as_float(0x7fffffff) : value;
  }
  __device__ float lse_max(float m, float first_m) const { return planted(kLseFirstBlockMax) ? first_m : m; }
  __device__ float stored_lse(float lse) const { return planted(kLseBase2) ? lse * 1.44269504f : lse; }  // log2(e)

  __device__ int buffer_ar_position(int position) const { return planted(kArTokenShift) ? position + 1 : position; }

 private:
  static constexpr int kTile = 64;  // the buffer tile of tf_mask_tile_boundary (as the CPU implementation's)

  __host__ __device__ bool planted(Fault fault) const { return (faults_ & fault) != 0; }
  // A length mask (the whole context, or the buffer under the decode mask) whose last block is off by one.
  __device__ int length_mask(int length) const {
    if (length == 0) return 0;  // no block
    if (planted(kLastBlockMaskPlusOne)) return length + 1;
    if (planted(kLastBlockMaskMinusOne)) return length - 1;
    return length;
  }
  __device__ static float bf16_round(float x) { return __bfloat162float(__float2bfloat16_rn(x)); }
  // Round to nearest on the 13 dropped mantissa bits, ties away from zero (cvt.rna.tf32.f32).
  __device__ static float tf32_round(float x) { return __uint_as_float((__float_as_uint(x) + 0x1000u) & 0xffffe000u); }
  __device__ static float4 tf32_round(float4 v) {
    return make_float4(tf32_round(v.x), tf32_round(v.y), tf32_round(v.z), tf32_round(v.w));
  }

  int faults_ = 0;
};

}  // namespace artabpfn::kernels
