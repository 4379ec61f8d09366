// Every fixture listed in a SHA256SUMS file under the fixtures directory has that checksum, so a
// test that passes ran against the fixtures of record.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "artabpfn/sha256.hpp"
#include "support/fixtures_dir.hpp"

namespace artabpfn {
namespace {

struct Listed {
  std::string hex;
  std::string name;
};

// `sha256sum` output: 64 hex digits, a space, ' ' (text mode) or '*' (binary mode), the file name.
std::vector<Listed> read_sums(const std::filesystem::path& sums) {
  std::ifstream in(sums);
  std::vector<Listed> listed;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    EXPECT_GT(line.size(), 66u) << sums << ": malformed line: " << line;
    if (line.size() <= 66) continue;
    EXPECT_EQ(line[64], ' ') << sums << ": malformed line: " << line;
    listed.push_back({line.substr(0, 64), line.substr(66)});
  }
  return listed;
}

TEST(IoTests, FixtureChecksumsEveryListedFileMatches) {
  const std::filesystem::path root = artabpfn::test_support::fixtures_dir();
  ASSERT_TRUE(std::filesystem::exists(root / "peer" / "SHA256SUMS")) << "fixtures not found under " << root;
  int verified = 0;
  for (const auto& item : std::filesystem::recursive_directory_iterator(root)) {
    if (item.path().filename() != "SHA256SUMS") continue;
    for (const Listed& file : read_sums(item.path())) {
      EXPECT_EQ(sha256_file_hex(item.path().parent_path() / file.name), file.hex) << item.path() << ": " << file.name;
      ++verified;
    }
  }
  EXPECT_GE(verified, 5);  // fixtures/peer lists five files
}

}  // namespace
}  // namespace artabpfn
