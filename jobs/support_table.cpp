#include "jobs/support_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "artabpfn/error.hpp"

namespace artabpfn::jobs {
namespace {

std::vector<std::string> column(std::string_view Combination::*field) {
  std::vector<std::string> values;
  for (const Combination& c : combinations())
    if (!(c.*field).empty() && std::find(values.begin(), values.end(), c.*field) == values.end())
      values.emplace_back(c.*field);
  return values;
}

std::string or_none(std::string_view value) { return value.empty() ? "-" : std::string(value); }

}  // namespace

const std::vector<Combination>& combinations() {
  static const std::vector<Combination> table = {
      // The CUDA engine: float32 kernels; mixed: double activations and sums over the float32
      // weights and K/V caches (density by teacher forcing only, not the reencode baseline);
      // tf32, tf32x3: the linear maps on the tensor cores (not the reencode baseline).
      {"density", "cuda", "fused", "float32"},
      {"density", "cuda", "split", "float32"},
      {"density", "cuda", "reencode", "float32"},
      {"density", "cuda", "fused", "mixed"},
      {"density", "cuda", "split", "mixed"},
      {"density", "cuda", "fused", "tf32"},
      {"density", "cuda", "split", "tf32"},
      {"density", "cuda", "fused", "tf32x3"},
      {"density", "cuda", "split", "tf32x3"},
      {"sample", "cuda", "fused", "float32"},
      {"sample", "cuda", "split", "float32"},
      {"sample", "cuda", "reencode", "float32"},
      {"sample", "cuda", "fused", "tf32"},
      {"sample", "cuda", "split", "tf32"},
      {"sample", "cuda", "fused", "tf32x3"},
      {"sample", "cuda", "split", "tf32x3"},
      // The engine's arithmetic of a precision on the CPU (docs/precisions.md): the plain float32
      // implementation, TF32 operands (to nearest), the split TF32 product.
      {"density", "cpu", "", "float32"},
      {"density", "cpu", "", "tf32"},
      {"density", "cpu", "", "tf32x3"},
      {"sample", "cpu", "", "float32"},
      {"sample", "cpu", "", "tf32"},
      {"sample", "cpu", "", "tf32x3"},
      // The CPU reference: one exact attention, in double or in 50-digit multiprecision.
      {"density", "reference", "", "float64"},
      {"sample", "reference", "", "float64"},
      {"density", "reference-mp", "", "multiprecision-50"},
      {"sample", "reference-mp", "", "multiprecision-50"},
  };
  return table;
}

std::vector<std::string> backends() { return column(&Combination::backend); }
std::vector<std::string> attention_modes() { return column(&Combination::attention); }
std::vector<std::string> precisions() { return column(&Combination::precision); }

Combination check_combination(const std::string& job, const std::string& backend, const std::string& attention,
                              const std::string& precision) {
  const Combination* first = nullptr;  // the backend's defaults
  for (const Combination& c : combinations()) {
    if (c.job != job || c.backend != backend) continue;
    if (!first) first = &c;
    const std::string_view a = attention.empty() ? first->attention : std::string_view(attention);
    const std::string_view p = precision.empty() ? first->precision : std::string_view(precision);
    if (c.attention == a && c.precision == p) return c;
  }
  std::string asked = fmt::format("{} --backend {}", job, backend);
  if (!attention.empty()) asked += " --attention " + attention;
  if (!precision.empty()) asked += " --precision " + precision;
  throw InputError(fmt::format("{} is not supported; what goes together:\n{}", asked, combinations_help(job)));
}

std::string combinations_help(const std::string& job) {
  // Rows of one backend and precision, their attention modes joined.
  std::vector<std::pair<std::string, std::string>> keys;
  std::map<std::pair<std::string, std::string>, std::string> modes;
  for (const Combination& c : combinations()) {
    if (c.job != job) continue;
    const std::pair<std::string, std::string> key{std::string(c.backend), std::string(c.precision)};
    auto [it, fresh] = modes.try_emplace(key, or_none(c.attention));
    if (fresh) keys.push_back(key);
    else it->second += ", " + or_none(c.attention);
  }
  std::string text = fmt::format("  {:<14}{:<26}{}\n", "--backend", "--attention", "--precision");
  for (const auto& key : keys) text += fmt::format("  {:<14}{:<26}{}\n", key.first, modes.at(key), key.second);
  return text + "  (without --attention or --precision, a backend's first row applies)";
}

}  // namespace artabpfn::jobs
