#include <fmt/format.h>

#include <bit>
#include <fstream>

#include "artabpfn/error.hpp"
#include "artabpfn/safetensors.hpp"
#include "half_float.hpp"
#include "little_endian.hpp"
#include "safetensors_header.hpp"

namespace artabpfn::safetensors {
namespace {

using io_detail::load_le;

constexpr std::size_t kLengthBytes = 8;  // the little-endian u64 header length

// Decodes every element of a tensor's raw bytes with `decode_one`.
template <class T, class Decode>
HostTensor<T> decode(const TensorInfo& info, std::span<const std::byte> raw, Decode decode_one) {
  const std::size_t width = dtype_size(info.dtype);
  HostTensor<T> out(info.shape);
  for (std::size_t i = 0; i < out.data.size(); ++i) out.data[i] = decode_one(raw.data() + i * width);
  return out;
}

float load_f32(const std::byte* p) { return std::bit_cast<float>(load_le<std::uint32_t>(p)); }

}  // namespace

File File::read(const std::filesystem::path& path) {
  const std::string source = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(source + ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(source + ": cannot open for reading");
  std::vector<std::byte> bytes;
  if (const auto size = std::filesystem::file_size(path, ec); !ec) bytes.reserve(size);
  std::vector<char> chunk(1 << 20);
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto* first = reinterpret_cast<const std::byte*>(chunk.data());
    bytes.insert(bytes.end(), first, first + in.gcount());
  }
  if (in.bad()) throw InputError(source + ": read error");
  return parse(std::move(bytes), source);
}

File File::parse(std::vector<std::byte> bytes, std::string source) {
  if (bytes.size() < kLengthBytes) {
    throw InputError(fmt::format("{}: file is {} bytes, too short for the 8-byte header length", source, bytes.size()));
  }
  const auto header_bytes = load_le<std::uint64_t>(bytes.data());
  if (header_bytes > kMaxHeaderBytes) {
    throw InputError(
        fmt::format("{}: header length {} exceeds the limit of {} bytes", source, header_bytes, kMaxHeaderBytes));
  }
  if (header_bytes > bytes.size() - kLengthBytes) {
    throw InputError(fmt::format("{}: header length {} runs past the end of the file ({} bytes)", source, header_bytes,
                                 bytes.size()));
  }
  const std::size_t data_start = kLengthBytes + static_cast<std::size_t>(header_bytes);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + kLengthBytes),
                              static_cast<std::size_t>(header_bytes));
  io_detail::Header header = io_detail::parse_header(text, bytes.size() - data_start, source);

  File file;
  file.source_ = std::move(source);
  file.image_ = std::move(bytes);
  file.data_start_ = data_start;
  file.metadata_ = std::move(header.metadata);
  file.tensors_ = std::move(header.tensors);
  for (std::size_t i = 0; i < file.tensors_.size(); ++i) file.index_.emplace(file.tensors_[i].name, i);
  return file;
}

bool File::contains(const std::string& name) const { return index_.contains(name); }

const TensorInfo& File::info(const std::string& name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) throw InputError(fmt::format("{}: tensor '{}' is missing", source_, name));
  return tensors_[it->second];
}

std::span<const std::byte> File::bytes(const std::string& name) const {
  const TensorInfo& t = info(name);
  // The header check guarantees begin <= end <= data section size.
  return std::span<const std::byte>(image_).subspan(data_start_ + static_cast<std::size_t>(t.begin),
                                                    static_cast<std::size_t>(t.end - t.begin));
}

HostTensor<float> File::to_f32(const std::string& name) const {
  const TensorInfo& t = info(name);
  const auto raw = bytes(name);
  switch (t.dtype) {
    case DType::F16:
      return decode<float>(t, raw,
                           [](const std::byte* p) { return io_detail::f16_to_float(load_le<std::uint16_t>(p)); });
    case DType::BF16:
      return decode<float>(t, raw,
                           [](const std::byte* p) { return io_detail::bf16_to_float(load_le<std::uint16_t>(p)); });
    case DType::F32:
      return decode<float>(t, raw, load_f32);
    case DType::F64:
      throw InputError(fmt::format(
          "{}: tensor '{}' is F64; converting it to float32 would round it (read it as float64)", source_, name));
    case DType::I32:
    case DType::I64:
      break;
  }
  throw InputError(
      fmt::format("{}: tensor '{}' is {}, not a floating-point tensor", source_, name, dtype_name(t.dtype)));
}

HostTensor<double> File::to_f64(const std::string& name) const {
  const TensorInfo& t = info(name);
  if (t.dtype == DType::F64) {
    return decode<double>(t, bytes(name),
                          [](const std::byte* p) { return std::bit_cast<double>(load_le<std::uint64_t>(p)); });
  }
  // Every F16, BF16 and F32 value is exactly a double.
  const HostTensor<float> narrow = to_f32(name);
  return HostTensor<double>(narrow.shape, std::vector<double>(narrow.data.begin(), narrow.data.end()));
}

HostTensor<std::int64_t> File::to_i64(const std::string& name) const {
  const TensorInfo& t = info(name);
  const auto raw = bytes(name);
  switch (t.dtype) {
    case DType::I32:
      return decode<std::int64_t>(t, raw, [](const std::byte* p) {
        return static_cast<std::int64_t>(std::bit_cast<std::int32_t>(load_le<std::uint32_t>(p)));
      });
    case DType::I64:
      return decode<std::int64_t>(
          t, raw, [](const std::byte* p) { return std::bit_cast<std::int64_t>(load_le<std::uint64_t>(p)); });
    case DType::F16:
    case DType::BF16:
    case DType::F32:
    case DType::F64:
      break;
  }
  throw InputError(
      fmt::format("{}: tensor '{}' is {}, not an integer tensor (I32 or I64)", source_, name, dtype_name(t.dtype)));
}

}  // namespace artabpfn::safetensors
