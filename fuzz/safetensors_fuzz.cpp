// Fuzzes the safetensors reader: any byte string must either parse or throw InputError, and every
// tensor of a file that parses must convert or throw InputError, as must loading it as weights
// (arbitrary tensor names reach the loader's name handling). Anything else (a crash, a sanitizer
// report, another exception type) is a bug.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "artabpfn/error.hpp"
#include "artabpfn/safetensors.hpp"
#include "artabpfn/weights_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using artabpfn::safetensors::File;
  const auto* first = reinterpret_cast<const std::byte*>(data);
  std::optional<File> file;
  try {
    file = File::parse(std::vector<std::byte>(first, first + size), "fuzz-input");
  } catch (const artabpfn::InputError&) {
    return 0;
  }
  for (const auto& info : file->tensors()) {
    (void)file->bytes(info.name);
    try {
      (void)file->to_f64(info.name);
    } catch (const artabpfn::InputError&) {
    }
    try {
      (void)file->to_i64(info.name);
    } catch (const artabpfn::InputError&) {
    }
  }
  try {
    (void)artabpfn::weights_from_file(*file, {.n_heads = std::nullopt, .notices = [](const std::string&) {}});
  } catch (const artabpfn::InputError&) {
  }
  return 0;
}
