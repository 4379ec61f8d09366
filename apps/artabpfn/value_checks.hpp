#pragma once
// Validators of option values that CLI11 would otherwise convert loosely (it wraps "-1" to 2^64-1
// and takes "" as 0): decimal integers in a range, and seeds, checked by jobs/number_checks.hpp.
#include <CLI/CLI.hpp>

#include <cstdint>

namespace artabpfn::cli {

// A seed: decimal digits only (no sign, no spaces, no exponent), a value in [0, 2^64).
CLI::Validator seed_value();

// A decimal integer (digits, after an optional '-') in [min, max]; the help shows the range
// ("integer >= min" when max is the largest int64).
CLI::Validator integer_in(std::int64_t min, std::int64_t max);

}  // namespace artabpfn::cli
