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
  if (name == "float32") return Precision::kFloat32;
  if (name == "mixed") return Precision::kMixed;
  throw InputError("unknown precision '" + name + "' (float32 or mixed)");
}

std::string precision_name(Precision precision) { return precision == Precision::kMixed ? "mixed" : "float32"; }

}  // namespace artabpfn::engine
