#include "conformance/float32_cpu/mutants.hpp"

#include <cstdlib>
#include <stdexcept>

namespace artabpfn::conformance::cpu {

const std::vector<MutantInfo>& mutants() {
  constexpr Precision f32 = Precision::kFloat32;
  static const std::vector<MutantInfo> table = {
      {Mutant::kTf32Context, "tf32_context", "QK and PV products rounded to TF32 (10-bit mantissa) in context attention", f32},
      {Mutant::kArTokenShift, "ar_token_shift", "buffer j takes ar_tokens[(j+1) mod L] while decoding/sampling", f32},
      {Mutant::kNanEmptyContext, "nan_empty_context", "NaN for an empty context (divides by a zero softmax denominator)", f32},
      {Mutant::kFirstSampleContext, "first_sample_context", "every sample uses batch element 0's context", f32},
      {Mutant::kNoScoreScale, "no_score_scale", "scores not scaled by 1/sqrt(Dh)", f32},
      {Mutant::kTargetSeesItself, "target_sees_itself", "target t sees buffer t (its own value)", f32},
      {Mutant::kLseBase2, "lse_base2", "LSE returned in base 2", f32},
      {Mutant::kGridYLimit, "grid_y_limit", "launch silently skips blocks past 65535 in y", f32},
      {Mutant::kNoRescale, "no_rescale", "running output not rescaled when a later key block raises the running max", f32},
      {Mutant::kLastBlockMaskPlusOne, "last_block_mask_plus_one", "last key block's mask counts one zero padding key", f32},
      {Mutant::kLastBlockMaskMinusOne, "last_block_mask_minus_one", "last key block's mask drops the last real key", f32},
      {Mutant::kLseFirstBlockMax, "lse_first_block_max", "LSE written from the first key block's maximum", f32},
      {Mutant::kTfMaskTileBoundary, "tf_mask_tile_boundary",
       "teacher forcing: a causal limit on a 64-key tile boundary lets the next tile through", f32},
      {Mutant::kBf16Accumulate, "bf16_accumulate", "BF16 kernel accumulating its softmax sum and output in BF16",
       Precision::kBf16},
      {Mutant::kFp16ScoreOverflow, "fp16_score_overflow", "FP16 kernel keeping its scores in FP16 (overflow)",
       Precision::kFp16},
  };
  return table;
}

namespace {

Mutant parse() {
  const char* value = std::getenv("ARTABPFN_MUTANT");
  if (!value || !*value || std::string(value) == "none") return Mutant::kNone;
  std::string known;
  for (const MutantInfo& m : mutants()) {
    if (m.name == std::string(value)) return m.id;
    known += std::string(known.empty() ? "" : ", ") + m.name;
  }
  throw std::invalid_argument("ARTABPFN_MUTANT=" + std::string(value) + " is not a mutant (known: " + known + ")");
}

}  // namespace

Mutant active_mutant() {
  static const Mutant m = parse();
  return m;
}

const MutantInfo* active_mutant_info() {
  const Mutant m = active_mutant();
  for (const MutantInfo& info : mutants())
    if (info.id == m) return &info;
  return nullptr;
}

}  // namespace artabpfn::conformance::cpu
