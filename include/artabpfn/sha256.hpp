#pragma once
// SHA-256 digests (OpenSSL's libcrypto) for fixture checksums and reproducibility manifests.
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

namespace artabpfn {

std::string sha256_hex(std::span<const std::byte> bytes);
std::string sha256_file_hex(const std::filesystem::path& path);  // throws InputError if unreadable

}  // namespace artabpfn
