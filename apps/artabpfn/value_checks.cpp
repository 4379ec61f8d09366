#include "value_checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>

namespace artabpfn::cli {
namespace {

bool all_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

CLI::Validator seed_value() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::uint64_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (all_digits(text) && ec == std::errc() && end == text.data() + text.size()) return {};
        return fmt::format("'{}' is not a seed: a seed is an integer in [0, 2^64) written in decimal digits", text);
      },
      "integer in [0, 2^64)", "SEED");
}

CLI::Validator integer_in(std::int64_t min, std::int64_t max) {
  // The largest int64 is no one's chosen bound: the help then says "integer >= min".
  const bool unbounded = max == std::numeric_limits<std::int64_t>::max();
  const std::string range = unbounded ? fmt::format("integer >= {}", min) : fmt::format("integer in [{}, {}]", min, max);
  return CLI::Validator(
      [min, max, range](std::string& text) -> std::string {
        std::int64_t value = 0;
        const std::string digits = text.starts_with('-') ? text.substr(1) : text;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (all_digits(digits) && ec == std::errc() && end == text.data() + text.size() && value >= min && value <= max)
          return {};
        return fmt::format("'{}' is not an {}", text, range);
      },
      range, "INTEGER");
}

}  // namespace artabpfn::cli
