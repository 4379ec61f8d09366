#pragma once
// Reading and writing the safetensors format: an 8-byte little-endian header length N, N bytes
// of UTF-8 JSON ({"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {str: str}}), then
// the data section. The reader is at least as strict as the format's reference implementation;
// every violation throws InputError naming the file and, where there is one, the tensor.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "artabpfn/host_tensor.hpp"

namespace artabpfn::safetensors {

enum class DType { F16, BF16, F32, F64, I32, I64 };

std::string dtype_name(DType dtype);  // "F32", ...
std::size_t dtype_size(DType dtype);

inline constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;  // as the reference implementation

struct TensorInfo {
  std::string name;
  DType dtype;
  Shape shape;
  std::uint64_t begin = 0;  // byte offsets into the data section
  std::uint64_t end = 0;
};

class File {
 public:
  // Reads and validates the whole file. `source` names the file in error messages.
  static File read(const std::filesystem::path& path);
  // Validates an in-memory image (used by read() and by the fuzz target).
  static File parse(std::vector<std::byte> bytes, std::string source);

  const std::string& source() const { return source_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // sorted by offset
  bool contains(const std::string& name) const;
  // Throws InputError "<file>: tensor '<name>' is missing" when absent.
  const TensorInfo& info(const std::string& name) const;

  // Converted copies. Floating conversions: F16/BF16/F32 -> float exact; any float -> double exact;
  // F64 -> float throws (it would lose precision silently). Integers only to int64.
  HostTensor<float> to_f32(const std::string& name) const;
  HostTensor<double> to_f64(const std::string& name) const;
  HostTensor<std::int64_t> to_i64(const std::string& name) const;
  // Raw little-endian bytes of one tensor.
  std::span<const std::byte> bytes(const std::string& name) const;

 private:
  std::string source_;
  std::vector<std::byte> image_;
  std::size_t data_start_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::size_t> index_;
};

// Builds a file in memory and writes it; tensors are laid out in insertion order, gap-free.
class Writer {
 public:
  void add(const std::string& name, const HostTensor<float>& t);
  void add(const std::string& name, const HostTensor<double>& t);
  void add(const std::string& name, const HostTensor<std::int64_t>& t);
  // Raw form, for tests that need F16/BF16/I32 or deliberately odd contents.
  void add_raw(const std::string& name, DType dtype, const Shape& shape, std::vector<std::byte> data);
  void set_metadata(const std::string& key, const std::string& value);
  std::vector<std::byte> to_bytes() const;
  void write(const std::filesystem::path& path) const;  // throws InputError on I/O failure

 private:
  struct Entry {
    std::string name;
    DType dtype;
    Shape shape;
    std::vector<std::byte> data;
  };
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace artabpfn::safetensors
