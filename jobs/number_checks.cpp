#include "jobs/number_checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>

namespace artabpfn::jobs {
namespace {

bool all_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string seed_problem(const std::string& text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (all_digits(text) && ec == std::errc() && end == text.data() + text.size()) return {};
  return fmt::format("'{}' is not a seed: a seed is an integer in [0, 2^64) written in decimal digits", text);
}

std::string integer_range(std::int64_t min, std::int64_t max) {
  // The largest int64 is no one's chosen bound: then "integer >= min".
  return max == std::numeric_limits<std::int64_t>::max() ? fmt::format("integer >= {}", min)
                                                         : fmt::format("integer in [{}, {}]", min, max);
}

std::string integer_problem(const std::string& text, std::int64_t min, std::int64_t max) {
  std::int64_t value = 0;
  const std::string digits = text.starts_with('-') ? text.substr(1) : text;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (all_digits(digits) && ec == std::errc() && end == text.data() + text.size() && value >= min && value <= max)
    return {};
  return fmt::format("'{}' is not an {}", text, integer_range(min, max));
}

}  // namespace artabpfn::jobs
