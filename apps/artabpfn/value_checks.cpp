#include "value_checks.hpp"

#include "jobs/number_checks.hpp"

namespace artabpfn::cli {

CLI::Validator seed_value() {
  return CLI::Validator([](std::string& text) { return jobs::seed_problem(text); }, "integer in [0, 2^64)", "SEED");
}

CLI::Validator integer_in(std::int64_t min, std::int64_t max) {
  return CLI::Validator([min, max](std::string& text) { return jobs::integer_problem(text, min, max); },
                        jobs::integer_range(min, max), "INTEGER");
}

}  // namespace artabpfn::cli
