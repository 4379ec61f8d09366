#pragma once
// The precisions a result is judged in (docs/precisions.md): how an implementation computes, and
// so which plain implementation's error sets its tolerance (rule.hpp).
//
//   float32  float32 arithmetic throughout;
//   tf32     the operands of every matrix product rounded to TF32 (10 explicit mantissa bits),
//            products and sums in float32;
//   bf16     attention with its inputs and softmax probabilities rounded to bfloat16 before the
//            products, float32 accumulation, the output rounded to bfloat16, the LSE in float32;
//   fp16     the same with IEEE binary16.
#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tolerance/rule.hpp"

namespace artabpfn::tolerance {

enum class Precision { kFloat32, kTf32, kBf16, kFp16 };

inline constexpr std::array<Precision, 4> kPrecisions = {Precision::kFloat32, Precision::kTf32, Precision::kBf16,
                                                        Precision::kFp16};

// "float32", "tf32", "bf16", "fp16".
std::string_view precision_name(Precision precision);
// The precision of a name above; nullopt for any other text.
std::optional<Precision> parse_precision(std::string_view name);
// "float32, tf32, bf16, fp16" (or the names of `precisions`, joined so): for messages.
std::string precision_names(std::span<const Precision> precisions = kPrecisions);

// The CUDA engine's precisions that run every job, and so serve the conformance contracts and are
// timed by the benchmarks (mixed is density only): "float32", "tf32", "tf32x3".
inline const std::vector<std::string> kJudgedEnginePrecisions = {"float32", "tf32", "tf32x3"};

// The precision the CUDA engine's results in `engine_precision` are judged in (docs/precisions.md,
// "The engine's precisions on the GPU"): float32 and tf32x3 as float32, tf32 as tf32; nullopt for
// any other name.
std::optional<Precision> engine_precision_judged_as(std::string_view engine_precision);

// The format a precision's rounded outputs are held in: bf16 and fp16 round their attention
// outputs to the format (so its ulps measure them); float32 and tf32 results are float32.
UlpFormat output_format(Precision precision);

}  // namespace artabpfn::tolerance
