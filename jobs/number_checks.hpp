#pragma once
// Numbers given as text (a seed, a count), checked strictly: decimal digits only, in range. The
// command line's option validators and the Python module's arguments use these, so both say the
// same thing about the same value.
#include <cstdint>
#include <string>

namespace artabpfn::jobs {

// "" when `text` is a seed: decimal digits only (no sign, no spaces, no exponent), a value in
// [0, 2^64); otherwise what is wrong.
std::string seed_problem(const std::string& text);

// "" when `text` is a decimal integer (digits, after an optional '-') in [min, max]; otherwise
// what is wrong.
std::string integer_problem(const std::string& text, std::int64_t min, std::int64_t max);

// "integer in [min, max]", or "integer >= min" when max is the largest int64.
std::string integer_range(std::int64_t min, std::int64_t max);

}  // namespace artabpfn::jobs
