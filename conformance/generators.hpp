#pragma once
// Internal to the vector generator: the inputs and the reference outputs of one case.
// case_plan.cpp plans the cases; vectors.cpp freezes the tolerances from the plain
// implementations' results (conformance/plain/); generate_attention.cpp and generate_model.cpp draw the inputs and
// compute the double reference and, for small model cases, the 50-digit reference.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "artabpfn/model_weights.hpp"
#include "artabpfn/portable_random.hpp"
#include "conformance/format.hpp"

namespace artabpfn::conformance::detail {

struct Generated {
  std::vector<std::pair<std::string, Tensor>> inputs;
  std::vector<std::pair<std::string, Tensor>> expected;  // double reference (NaN / -1: not compared)
  std::map<std::string, Tensor> multiprecision;          // 50-digit reference rounded to double
};

// Portable draws: the same values from a seed on every platform.
using Rng = PortableRandom;

enum class ScoreValues {
  kNormal,
  kContextDominates,  // the context's scores ~1e3 above the buffer's
  kBufferDominates,   // the other way round
  kBeyondFloat16,     // every score ~1.2e5 in magnitude (either sign): past binary16's largest, 65504
};

// Where the float inputs lie: any float32 value, or values of 8 significant bits that bfloat16
// and binary16 both hold exactly (so a bf16 or fp16 implementation is given exactly the inputs
// the double reference saw).
enum class InputGrid { kFloat32, kBf16 };

// shared_context_attention, buffer_attention_decode, buffer_attention_teacher_forcing, fused_attention.
struct AttentionCase {
  std::string contract;
  int batch = 1, heads = 1, queries = 1, head_dim = 8;
  std::vector<int> context_len{0};  // per task
  std::vector<int> task_of_sample;  // [batch]; empty: every sample reads task 0
  int capacity = 0, length = 0;     // buffer
  bool teacher_forcing = false;
  ScoreValues values = ScoreValues::kNormal;
  InputGrid grid = InputGrid::kFloat32;
};
Generated generate_attention(const AttentionCase& c, std::uint64_t seed);

struct MergeCase {
  int rows = 1, head_dim = 8;
  double lse_scale = 1.0;       // lse ~ N(0, scale), some +-scale exactly
  double empty_fraction = 0.1;  // parts with lse = -inf (out 0)
  double gap = 0.0;             // lse2 = lse1 -+ gap (one part dominates by `gap` in the exponent)
  InputGrid grid = InputGrid::kFloat32;  // of out1 and out2 (the LSEs are float32 in every precision)
};
Generated generate_merge(const MergeCase& c, std::uint64_t seed);

// prefill_kv, teacher_forcing_density, forced_ar_density, mixture_parameters, sampler,
// buffer_kv_append, sample_sequence.
struct ModelJobCase {
  std::string contract;
  const ModelWeights* weights = nullptr;
  bool multiprecision = false;               // also run the 50-digit reference (small cases only)
  std::vector<int> context_len, target_len;  // per task
  int features = 2, value_sets = 1;
  int samples = 1;  // sample_sequence, buffer_kv_append
  int step = 1;     // buffer_kv_append: t >= 1
  int rows = 1;     // mixture_parameters, sampler
  std::string stream = "given";  // sampler: given | philox
  std::uint64_t sampling_seed = 0;
};
Generated generate_model_job(const ModelJobCase& c, std::uint64_t seed);

// Margin below which a component pick counts as ambiguous (the uniform lies within rounding of
// a boundary of the cumulative weights): such draws are not compared.
inline constexpr double kPickMargin = 1e-4;

}  // namespace artabpfn::conformance::detail
