#include "conformance/float32_cpu/mutants.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>

namespace artabpfn::conformance::cpu {

const std::vector<MutantInfo>& mutants() {
  static const std::vector<MutantInfo> table = {
      {Mutant::kTf32Context, "tf32_context", "QK and PV products rounded to TF32 (10-bit mantissa) in context attention"},
      {Mutant::kArTokenShift, "ar_token_shift", "buffer j takes ar_tokens[(j+1) mod L] while decoding/sampling"},
      {Mutant::kNanEmptyContext, "nan_empty_context", "NaN for an empty context (divides by a zero softmax denominator)"},
      {Mutant::kFirstSampleContext, "first_sample_context", "every sample uses batch element 0's context"},
      {Mutant::kNoScoreScale, "no_score_scale", "scores not scaled by 1/sqrt(Dh)"},
      {Mutant::kTargetSeesItself, "target_sees_itself", "target t sees buffer t (its own value)"},
      {Mutant::kLseBase2, "lse_base2", "LSE returned in base 2"},
      {Mutant::kGridYLimit, "grid_y_limit", "launch silently skips blocks past 65535 in y"},
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

float round_tf32(float x) {
  if (!std::isfinite(x)) return x;
  std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  bits = (bits + 0x1000u) & 0xffffe000u;  // round half away from zero on the 13 dropped bits
  return std::bit_cast<float>(bits);
}

}  // namespace artabpfn::conformance::cpu
