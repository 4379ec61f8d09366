#include "tolerance/precision.hpp"

namespace artabpfn::tolerance {

std::string_view precision_name(Precision precision) {
  switch (precision) {
    case Precision::kFloat32: return "float32";
    case Precision::kTf32: return "tf32";
    case Precision::kBf16: return "bf16";
    case Precision::kFp16: return "fp16";
  }
  return "?";
}

std::optional<Precision> parse_precision(std::string_view name) {
  for (Precision p : kPrecisions)
    if (precision_name(p) == name) return p;
  return std::nullopt;
}

std::string precision_names(std::span<const Precision> precisions) {
  std::string names;
  for (Precision p : precisions) names += (names.empty() ? "" : ", ") + std::string(precision_name(p));
  return names;
}

std::optional<Precision> engine_precision_judged_as(std::string_view engine_precision) {
  if (engine_precision == "float32" || engine_precision == "tf32x3") return Precision::kFloat32;
  if (engine_precision == "tf32") return Precision::kTf32;
  return std::nullopt;
}

UlpFormat output_format(Precision precision) {
  switch (precision) {
    case Precision::kBf16: return UlpFormat::kBFloat16;
    case Precision::kFp16: return UlpFormat::kFloat16;
    default: return UlpFormat::kFloat32;
  }
}

}  // namespace artabpfn::tolerance
