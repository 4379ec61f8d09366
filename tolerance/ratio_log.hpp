#pragma once
// The measured error / plain error ratios of the rule's checks, per name (a property, a kernel),
// printed when a property ends as one "[ratio]" line: the numbers a factor in constants.hpp is
// chosen from. "Decided" checks are those whose error exceeds the floor, the only ones where the
// factor matters at all.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "tolerance/rule.hpp"

namespace artabpfn::tolerance {

class RatioLog {
 public:
  void add(const std::string& name, const Check& check);
  // An error held to `bound` (or only reported: factor 0).
  void add(const std::string& name, double error, const Bound& bound);
  // "[ratio] name: error / plain error over N checks (...): median, p90, p99, max; ..."; "" if none.
  std::string summary(const std::string& name) const;
  void print(const std::string& name) const;  // summary() on stdout, flushed; nothing if none
  static RatioLog& global();

 private:
  struct Entry {
    std::size_t checks = 0, exact_baseline = 0;
    std::vector<double> ratios, decided;
    double largest_error = 0.0;
    double factor = 0.0;  // the largest factor the checks used
  };
  std::map<std::string, Entry> entries_;
};

}  // namespace artabpfn::tolerance
