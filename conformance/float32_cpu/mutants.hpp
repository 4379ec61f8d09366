#pragma once
// Faults that can be planted in the implementations under test (never in the reference or in
// the tolerance baseline), chosen at run time by the environment variable ARTABPFN_MUTANT.
// The CPU implementation (this folder) has a hook for every one; the CUDA kernels plant those
// that apply to them only in their mutant build (conformance/cuda/planted_faults.cuh); the NumPy
// example adapter (python/artabpfn_conformance) has the ones that apply to attention. Each fault
// targets one precision (precision.hpp): it is planted in, and checked under, that precision.
#include <string>
#include <vector>

#include "conformance/float32_cpu/precision.hpp"

namespace artabpfn::conformance::cpu {

enum class Mutant {
  kNone,
  kTf32Context,            // QK and PV products with TF32 operands (10-bit mantissa) in context attention
  kArTokenShift,           // buffer j takes ar_tokens[(j+1) mod L] on the decode path (teacher forcing unchanged)
  kNanEmptyContext,        // an empty context divides by a zero softmax denominator (NaN)
  kFirstSampleContext,     // every sample reads batch element 0's context
  kNoScoreScale,           // scores not scaled by 1/sqrt(Dh)
  kTargetSeesItself,       // target t sees buffer t under the teacher-forcing mask
  kLseBase2,               // LSE returned in base 2
  kGridYLimit,             // a launch with more than 65535 blocks in y silently skips the rest
  kNoRescale,              // the running output not rescaled when a later key block raises the running max
  kLastBlockMaskPlusOne,   // the last key block's length mask lets one zero-filled padding key through
  kLastBlockMaskMinusOne,  // the last key block's length mask drops the last real key
  kLseFirstBlockMax,       // the LSE written from the first key block's maximum
  kTfMaskTileBoundary,     // teacher forcing: a row whose causal limit ends a 64-key tile sees all the next tile
  kBf16Accumulate,         // bf16: the running softmax sum and output accumulated in BF16
  kFp16ScoreOverflow,      // fp16: the scores kept in FP16 (infinite past 65504)
};

struct MutantInfo {
  Mutant id;
  const char* name;  // the value of ARTABPFN_MUTANT
  const char* description;
  Precision precision;  // the precision the fault is planted in and checked under
};

const std::vector<MutantInfo>& mutants();
// The mutant named by ARTABPFN_MUTANT (kNone when unset or empty); read once. An unknown name
// throws std::invalid_argument listing the known ones.
Mutant active_mutant();
inline bool mutant(Mutant m) { return active_mutant() == m; }
// The planted mutant's entry (nullptr for kNone).
const MutantInfo* active_mutant_info();

}  // namespace artabpfn::conformance::cpu
