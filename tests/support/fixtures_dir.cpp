#include "support/fixtures_dir.hpp"

#include <cstdlib>

namespace artabpfn::test_support {

std::filesystem::path fixtures_dir() {
  // The environment wins so that an installed test binary can be pointed at a copy of the fixtures.
  if (const char* dir = std::getenv("ARTABPFN_FIXTURES_DIR"); dir != nullptr && *dir != '\0') return dir;
  return ARTABPFN_DEFAULT_FIXTURES_DIR;
}

}  // namespace artabpfn::test_support
