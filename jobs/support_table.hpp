#pragma once
// Which job, backend, attention mode and precision go together: one table, checked once before any
// work and the same whether or not a GPU is present (a cuda row is checked even where the CPU
// reference will stand in for the engine), and printed in the help of `density` and `sample`.
// A new precision or attention mode is a new row.
#include <string>
#include <string_view>
#include <vector>

namespace artabpfn::jobs {

struct Combination {
  std::string_view job;        // "density" or "sample"
  std::string_view backend;    // "cuda", "cpu", "reference" or "reference-mp"
  std::string_view attention;  // "" where the backend has no attention modes
  std::string_view precision;
};

// Every supported combination; a backend's first row gives its defaults.
const std::vector<Combination>& combinations();

// The distinct values of one column, in table order (for the options' allowed values).
std::vector<std::string> backends();
std::vector<std::string> attention_modes();
std::vector<std::string> precisions();

// The combination for `job` and `backend` with the attention and precision asked for ("" takes
// the backend's default); throws InputError naming what does not go together and what does.
Combination check_combination(const std::string& job, const std::string& backend, const std::string& attention,
                              const std::string& precision);

// The rows of `job` as a table for --help.
std::string combinations_help(const std::string& job);

}  // namespace artabpfn::jobs
