#pragma once
// Faults that can be planted in the implementations under test (never in the reference or in
// the tolerance baseline), chosen at run time by the environment variable ARTABPFN_MUTANT.
// The plain float32 CPU implementation (this folder) has a hook for every one; the CUDA
// kernels plant them only in their mutant build (conformance/cuda/planted_faults.cuh); the NumPy
// example adapter (python/artabpfn_conformance) has the ones that apply to attention.
#include <string>
#include <vector>

namespace artabpfn::conformance::cpu {

enum class Mutant {
  kNone,
  kTf32Context,         // 1: QK and PV products with TF32 operands (10-bit mantissa) in context attention
  kArTokenShift,        // 2: buffer j takes ar_tokens[(j+1) mod L] on the decode path (teacher forcing unchanged)
  kNanEmptyContext,     // 3: an empty context divides by a zero softmax denominator (NaN)
  kFirstSampleContext,  // 4: every sample reads batch element 0's context
  kNoScoreScale,        // 5: scores not scaled by 1/sqrt(Dh)
  kTargetSeesItself,    // 6: target t sees buffer t under the teacher-forcing mask
  kLseBase2,            // 7: LSE returned in base 2
  kGridYLimit,          // 8: a launch with more than 65535 blocks in y silently skips the rest
};

struct MutantInfo {
  Mutant id;
  const char* name;  // the value of ARTABPFN_MUTANT
  const char* description;
};

const std::vector<MutantInfo>& mutants();
// The mutant named by ARTABPFN_MUTANT (kNone when unset or empty); read once. An unknown name
// throws std::invalid_argument listing the known ones.
Mutant active_mutant();
inline bool mutant(Mutant m) { return active_mutant() == m; }

// Rounds to the nearest float with a 10-bit mantissa (TF32), ties away from zero, as cvt.rna.tf32.f32.
float round_tf32(float x);

}  // namespace artabpfn::conformance::cpu
