#pragma once
// Fault injection for the conformance mutation tests (docs/conformance_vectors.md, "Mutation
// tests"). Only the copy of the kernel sources compiled with ARTABPFN_MUTATIONS
// (conformance/cuda/CMakeLists.txt, linked into conformance_cuda_adapter_mutants) includes this
// header: artabpfn_kernels itself never reads ARTABPFN_MUTANT. The host reads the variable at
// every launch and passes the fault to the kernel; the names are those of
// conformance/float32_cpu/mutants.hpp.
#include <cstdlib>
#include <cstring>

namespace artabpfn::kernels::mutation {

enum Flag : int {
  kTf32Context = 1 << 0,         // QK and PV with TF32 operands (10-bit mantissa) in the context phase
  kArTokenShift = 1 << 1,        // decode: buffer j takes ar_tokens[(j+1) mod L]
  kNanEmptyContext = 1 << 2,     // shared_context_attention: 0 / 0 for an empty context
  kFirstSampleContext = 1 << 3,  // every sample reads batch element 0's context
  kNoScoreScale = 1 << 4,        // scores not scaled by 1/sqrt(Dh)
  kTargetSeesItself = 1 << 5,    // teacher forcing: target t sees buffer t
  kLseBase2 = 1 << 6,            // LSE in base 2
  kGridYLimit = 1 << 7,          // a (heads, row tiles) grid whose tiles past 65535 in y never run
};

inline int active() {
  const char* v = std::getenv("ARTABPFN_MUTANT");
  if (!v || !*v) return 0;
  struct Entry {
    const char* name;
    int flag;
  };
  static const Entry table[] = {{"tf32_context", kTf32Context},
                                {"ar_token_shift", kArTokenShift},
                                {"nan_empty_context", kNanEmptyContext},
                                {"first_sample_context", kFirstSampleContext},
                                {"no_score_scale", kNoScoreScale},
                                {"target_sees_itself", kTargetSeesItself},
                                {"lse_base2", kLseBase2},
                                {"grid_y_limit", kGridYLimit}};
  for (const Entry& e : table)
    if (std::strcmp(v, e.name) == 0) return e.flag;
  return 0;
}

#if defined(__CUDACC__)
// Round to nearest on the 13 dropped mantissa bits, ties away from zero (cvt.rna.tf32.f32).
__device__ __forceinline__ float tf32_round(float x) {
  return __uint_as_float((__float_as_uint(x) + 0x1000u) & 0xffffe000u);
}
__device__ __forceinline__ float4 tf32_round(float4 v) {
  return make_float4(tf32_round(v.x), tf32_round(v.y), tf32_round(v.z), tf32_round(v.w));
}
#endif

}  // namespace artabpfn::kernels::mutation
