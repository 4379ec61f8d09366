// SHA-256 against published test vectors (FIPS 180-2 / NIST CSRC examples), in memory and from files.
#include "artabpfn/sha256.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "artabpfn/error.hpp"
#include "support/temp_dir.hpp"

namespace artabpfn {
namespace {

std::string hash_of(const std::string& text) {
  return sha256_hex(std::span(reinterpret_cast<const std::byte*>(text.data()), text.size()));
}

TEST(IoTests, Sha256NistVectors) {
  EXPECT_EQ(hash_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hash_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hash_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hash_of(std::string(1'000'000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(IoTests, Sha256FileMatchesMemoryAcrossChunks) {
  // 2.5 MiB of varied bytes: more than one read chunk, and a partial last chunk.
  std::string text(5 << 19, '\0');
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>((i * 2654435761u) >> 13);
  const artabpfn::test_support::TempDir dir;
  for (const std::string& content : {std::string(), std::string("abc"), text}) {
    const auto path = dir / "data.bin";
    std::ofstream(path, std::ios::binary).write(content.data(), static_cast<std::streamsize>(content.size()));
    EXPECT_EQ(sha256_file_hex(path), hash_of(content)) << content.size();
  }
}

TEST(IoTests, Sha256UnreadableFileIsNamed) {
  const artabpfn::test_support::TempDir dir;
  for (const auto& path : {dir / "missing.bin", dir.path()}) {
    try {
      (void)sha256_file_hex(path);
      ADD_FAILURE() << "no error for " << path;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace artabpfn
