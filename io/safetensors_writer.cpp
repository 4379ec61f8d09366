#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <fstream>
#include <nlohmann/json.hpp>

#include "artabpfn/error.hpp"
#include "artabpfn/safetensors.hpp"
#include "dtype.hpp"
#include "little_endian.hpp"

namespace artabpfn::safetensors {
namespace {

using io_detail::append_le;

template <class T, class Encode>
std::vector<std::byte> encode(const HostTensor<T>& t, Encode encode_one) {
  std::vector<std::byte> out;
  out.reserve(t.data.size() * sizeof(T));
  for (const T value : t.data) encode_one(out, value);
  return out;
}

[[noreturn]] void fail(const std::string& what) { throw InputError("safetensors writer: " + what); }

}  // namespace

void Writer::add(const std::string& name, const HostTensor<float>& t) {
  add_raw(name, DType::F32, t.shape,
          encode(t, [](std::vector<std::byte>& out, float v) { append_le(out, std::bit_cast<std::uint32_t>(v)); }));
}

void Writer::add(const std::string& name, const HostTensor<double>& t) {
  add_raw(name, DType::F64, t.shape,
          encode(t, [](std::vector<std::byte>& out, double v) { append_le(out, std::bit_cast<std::uint64_t>(v)); }));
}

void Writer::add(const std::string& name, const HostTensor<std::int64_t>& t) {
  add_raw(name, DType::I64, t.shape, encode(t, [](std::vector<std::byte>& out, std::int64_t v) {
            append_le(out, std::bit_cast<std::uint64_t>(v));
          }));
}

void Writer::add_raw(const std::string& name, DType dtype, const Shape& shape, std::vector<std::byte> data) {
  // Refuse what would make an invalid file, so that everything written reads back.
  if (name == "__metadata__") fail("'__metadata__' is reserved and cannot name a tensor");
  if (std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.name == name; })) {
    fail(fmt::format("tensor '{}' added twice", name));
  }
  const auto bytes = io_detail::byte_count(shape, dtype);
  if (!bytes) fail(fmt::format("tensor '{}': shape {} is negative or too large", name, shape_to_string(shape)));
  if (*bytes != data.size()) {
    fail(fmt::format("tensor '{}': {} bytes given, shape {} of {} needs {}", name, data.size(), shape_to_string(shape),
                     dtype_name(dtype), *bytes));
  }
  entries_.push_back(Entry{name, dtype, shape, std::move(data)});
}

void Writer::set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }

std::vector<std::byte> Writer::to_bytes() const {
  // ordered_json keeps the header in insertion order, which is also the data order.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  std::uint64_t offset = 0;
  for (const Entry& e : entries_) {
    const std::uint64_t end = offset + e.data.size();
    header[e.name] = {{"dtype", dtype_name(e.dtype)},
                      {"shape", e.shape},
                      {"data_offsets", nlohmann::ordered_json::array({offset, end})}};
    offset = end;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    fail(fmt::format("cannot encode the header: {}", e.what()));  // names that are not UTF-8
  }
  // Pad with spaces (valid JSON whitespace) so that the data section starts 8-byte aligned, as
  // the format's reference writer does.
  text.append((8 - text.size() % 8) % 8, ' ');
  if (text.size() > kMaxHeaderBytes) fail(fmt::format("header of {} bytes exceeds the format's limit", text.size()));

  std::vector<std::byte> out;
  out.reserve(8 + text.size() + offset);
  append_le(out, static_cast<std::uint64_t>(text.size()));
  for (const char c : text) out.push_back(static_cast<std::byte>(c));
  for (const Entry& e : entries_) out.insert(out.end(), e.data.begin(), e.data.end());
  return out;
}

void Writer::write(const std::filesystem::path& path) const {
  const std::vector<std::byte> bytes = to_bytes();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw InputError(path.string() + ": cannot open for writing");
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw InputError(path.string() + ": write failed");
}

}  // namespace artabpfn::safetensors
