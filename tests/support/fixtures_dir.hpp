#pragma once
// Where the test fixtures live: $ARTABPFN_FIXTURES_DIR if set, else the source tree's fixtures/.
#include <filesystem>


namespace artabpfn::test_support {

std::filesystem::path fixtures_dir();

}  // namespace artabpfn::test_support
