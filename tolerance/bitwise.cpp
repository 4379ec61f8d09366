#include "tolerance/bitwise.hpp"

#include <cstdio>
#include <cstring>

namespace artabpfn::tolerance {

bool bitwise_equal(std::span<const float> a, std::span<const float> b, std::string* where) {
  if (a.size() != b.size()) {
    if (where) *where = "sizes " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) {
      if (where) {
        char line[160];
        std::snprintf(line, sizeof line, "element %zu: %.9g vs %.9g", i, static_cast<double>(a[i]), static_cast<double>(b[i]));
        *where = line;
      }
      return false;
    }
  return true;
}

}  // namespace artabpfn::tolerance
