#include "support/temp_dir.hpp"

#include <random>
#include <stdexcept>

namespace artabpfn::test_support {

TempDir::TempDir() {
  // A random name, so that test processes running in parallel never share a directory.
  std::random_device entropy;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const auto candidate = std::filesystem::temp_directory_path() / ("artabpfn-test-" + std::to_string(entropy()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a scratch directory under " +
                           std::filesystem::temp_directory_path().string());
}

TempDir::~TempDir() {
  std::error_code ignored;  // a destructor must not throw; a leftover directory is harmless
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace artabpfn::test_support
