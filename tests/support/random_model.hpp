#pragma once
// Random small models (their weights: artabpfn::random_weights) and tasks for property tests.
// Values come from a seeded engine, so a RapidCheck case is reproduced by its generated sizes and
// seed.
#include <cstdint>
#include <ostream>
#include <random>

#include <rapidcheck.h>

#include "artabpfn/model_config.hpp"
#include "artabpfn/random_weights.hpp"
#include "reference/task.hpp"

namespace artabpfn::test_support {

// A task with nc context rows, nt targets and `features` features, values N(0,1).
reference::TaskInputs random_task(std::mt19937_64& engine, Eigen::Index nc, Eigen::Index nt, Eigen::Index features);
Eigen::VectorXd random_values(std::mt19937_64& engine, Eigen::Index n);

// Small configurations: D up to 18 with head dims that are often not powers of two
// (e.g. 3, 5, 6, 9), 1-2 layers, buffer sizes 1-4 so that Nt > L is common, K 2-4.
rc::Gen<ModelConfig> small_config();

struct SmallCase {
  ModelConfig config;
  std::uint64_t seed;
  int nc, nt, features;
};
// A config plus task sizes: Nc from 0, Nt from 1 (often above buffer_size), 1-3 features.
rc::Gen<SmallCase> small_case();
// How RapidCheck prints a case in a failure report.
void showValue(const SmallCase& c, std::ostream& os);

}  // namespace artabpfn::test_support

// Lets properties take a SmallCase argument directly.
template <>
struct rc::Arbitrary<artabpfn::test_support::SmallCase> {
  static rc::Gen<artabpfn::test_support::SmallCase> arbitrary() { return artabpfn::test_support::small_case(); }
};
