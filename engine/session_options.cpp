#include "engine/session_options.hpp"

#include "artabpfn/error.hpp"

namespace artabpfn::engine {

AttentionMode parse_attention_mode(const std::string& name) {
  if (name == "split") return AttentionMode::kSplit;
  if (name == "fused") return AttentionMode::kFused;
  if (name == "reencode") return AttentionMode::kReencode;
  throw InputError("unknown attention mode '" + name + "' (split, fused or reencode)");
}

std::string attention_mode_name(AttentionMode mode) {
  switch (mode) {
    case AttentionMode::kSplit: return "split";
    case AttentionMode::kFused: return "fused";
    case AttentionMode::kReencode: return "reencode";
  }
  return "?";
}

Precision parse_precision(const std::string& name) {
  for (Precision p : {Precision::kFloat32, Precision::kMixed, Precision::kTf32, Precision::kTf32x3})
    if (name == precision_name(p)) return p;
  throw InputError("unknown precision '" + name + "' (float32, mixed, tf32 or tf32x3)");
}

std::string precision_name(Precision precision) {
  switch (precision) {
    case Precision::kFloat32: return "float32";
    case Precision::kMixed: return "mixed";
    case Precision::kTf32: return "tf32";
    case Precision::kTf32x3: return "tf32x3";
  }
  return "?";
}

}  // namespace artabpfn::engine
