#pragma once
// One exception type for every bad input the project rejects (malformed files, wrong shapes,
// NaN inputs, sizes over a limit). The message always says what is wrong and where.
#include <stdexcept>
#include <string>

namespace artabpfn {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace artabpfn
