#include "artabpfn/sha256.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

#include "artabpfn/error.hpp"

namespace artabpfn {
namespace {

std::string to_hex(const unsigned char* digest, unsigned int length) {
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

void check(int openssl_status) {
  // libcrypto only fails here on allocation failure or a broken build: not a problem of the input.
  if (openssl_status != 1) throw std::runtime_error("OpenSSL SHA-256 failed");
}

}  // namespace

std::string sha256_hex(std::span<const std::byte> bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  check(EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr));
  return to_hex(digest, length);
}

std::string sha256_file_hex(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(path.string() + ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot open for reading");

  const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx) throw std::runtime_error("OpenSSL SHA-256 failed");
  check(EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr));
  // Streamed in chunks: checksummed files may be larger than is sensible to hold in memory.
  std::vector<char> chunk(1 << 20);
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    check(EVP_DigestUpdate(ctx.get(), chunk.data(), static_cast<std::size_t>(in.gcount())));
  }
  if (in.bad()) throw InputError(path.string() + ": read error");

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  check(EVP_DigestFinal_ex(ctx.get(), digest, &length));
  return to_hex(digest, length);
}

}  // namespace artabpfn
