#include "safetensors_header.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>

#include "artabpfn/error.hpp"
#include "dtype.hpp"

namespace artabpfn::io_detail {
namespace {

using nlohmann::json;
using safetensors::TensorInfo;

constexpr std::string_view kMetadataKey = "__metadata__";

[[noreturn]] void fail(const std::string& source, const std::string& what) { throw InputError(source + ": " + what); }

// How errors name a top-level header entry.
std::string entry_label(const std::string& key) {
  return key == kMetadataKey ? std::string(kMetadataKey) : fmt::format("tensor '{}'", key);
}

// Byte offset of the first byte that breaks strict UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or nullopt when `text` is valid.
std::optional<std::size_t> first_invalid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // Sequence length and the allowed range of the second byte (Unicode 15, table 3-7).
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      return i;
    }
    if (text.size() - i < length) return i;
    for (std::size_t k = 1; k < length; ++k) {
      const auto byte = static_cast<unsigned char>(text[i + k]);
      const unsigned char lo = k == 1 ? low : 0x80;
      const unsigned char hi = k == 1 ? high : 0xBF;
      if (byte < lo || byte > hi) return i;
    }
    i += length;
  }
  return std::nullopt;
}

// nlohmann::json keeps one of several equal keys silently, so this parser callback sees every key
// as it is read and rejects duplicates at any level. It also stops nesting deeper than a valid
// header ever goes, so hostile input cannot make the parser build deep trees.
class HeaderGuard {
 public:
  explicit HeaderGuard(const std::string& source) : source_(source) {}

  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        check_depth(depth);
        keys_.emplace_back();
        break;
      case json::parse_event_t::array_start:
        check_depth(depth);
        break;
      case json::parse_event_t::object_end:
        keys_.pop_back();
        break;
      case json::parse_event_t::key: {
        const auto& key = parsed.get_ref<const std::string&>();
        if (depth == 1) entry_ = key;
        if (depth == 2) field_ = key;
        if (!keys_.back().insert(key).second) {
          if (depth == 1) fail(source_, fmt::format("{}: appears twice in the header", entry_label(key)));
          fail(source_, fmt::format("{}: duplicate key '{}'", entry_label(entry_), key));
        }
        break;
      }
      default:
        break;
    }
    return true;
  }

 private:
  // The header object is at depth 0, entries at 1, their fields (shape, data_offsets) at 2.
  static constexpr int kMaxContainerDepth = 2;

  void check_depth(int depth) const {
    if (depth > kMaxContainerDepth) {
      fail(source_, fmt::format("{}: field '{}' nests arrays or objects deeper than the format allows",
                                entry_label(entry_), field_));
    }
  }

  const std::string& source_;
  std::vector<std::set<std::string>> keys_;  // keys seen so far in each open object
  std::string entry_;
  std::string field_;
};

std::map<std::string, std::string> parse_metadata(const json& value, const std::string& source) {
  if (!value.is_object()) fail(source, "__metadata__ is not a JSON object (it maps strings to strings)");
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      fail(source, fmt::format("__metadata__: the value of key '{}' is {}, not a string", key, item.type_name()));
    }
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

// A JSON number that is an integer in [0, max]; floats such as 2.0 are not.
std::optional<std::uint64_t> as_count(const json& value, std::uint64_t max) {
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    if (v <= max) return v;
  } else if (value.is_number_integer() && value.get<std::int64_t>() == 0) {
    return 0;  // "-0"
  }
  return std::nullopt;
}

class EntryParser {
 public:
  EntryParser(const std::string& source, const std::string& name) : source_(source), name_(name) {}

  TensorInfo parse(const json& entry) const {
    if (!entry.is_object()) fail_tensor(fmt::format("entry is {}, not a JSON object", entry.type_name()));
    for (const auto& item : entry.items()) {
      const std::string& key = item.key();
      if (key != "dtype" && key != "shape" && key != "data_offsets") {
        fail_tensor(fmt::format("unexpected field '{}' (an entry has exactly dtype, shape, data_offsets)", key));
      }
    }
    TensorInfo info;
    info.name = name_;
    info.dtype = parse_dtype(field(entry, "dtype"));
    info.shape = parse_shape(field(entry, "shape"));
    std::tie(info.begin, info.end) = parse_offsets(field(entry, "data_offsets"));
    const std::optional<std::uint64_t> bytes = byte_count(info.shape, info.dtype);
    if (!bytes) {
      fail_tensor(fmt::format("the byte size of shape {} of {} overflows 64 bits", shape_to_string(info.shape),
                              safetensors::dtype_name(info.dtype)));
    }
    if (info.end - info.begin != *bytes) {
      fail_tensor(fmt::format("data_offsets [{},{}] hold {} bytes, but shape {} of {} needs {}", info.begin, info.end,
                              info.end - info.begin, shape_to_string(info.shape), safetensors::dtype_name(info.dtype),
                              *bytes));
    }
    return info;
  }

 private:
  [[noreturn]] void fail_tensor(const std::string& what) const {
    fail(source_, fmt::format("tensor '{}': {}", name_, what));
  }

  const json& field(const json& entry, const char* key) const {
    const auto it = entry.find(key);
    if (it == entry.end()) fail_tensor(fmt::format("missing field '{}'", key));
    return *it;
  }

  safetensors::DType parse_dtype(const json& value) const {
    if (!value.is_string()) fail_tensor(fmt::format("dtype is {}, not a string", value.type_name()));
    const auto& name = value.get_ref<const std::string&>();
    if (const auto dtype = dtype_from_name(name)) return *dtype;
    if (is_other_safetensors_dtype(name)) {
      fail_tensor(fmt::format("unsupported dtype '{}' (this project reads {})", name, supported_dtype_list()));
    }
    fail_tensor(fmt::format("unknown dtype '{}'", name));
  }

  Shape parse_shape(const json& value) const {
    if (!value.is_array()) fail_tensor(fmt::format("shape is {}, not an array", value.type_name()));
    Shape shape;
    for (const json& dim : value) {
      const auto count = as_count(dim, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
      if (!count) {
        fail_tensor(
            fmt::format("shape {}: dimension {} is not a non-negative 64-bit integer", value.dump(), dim.dump()));
      }
      shape.push_back(static_cast<std::int64_t>(*count));
    }
    return shape;
  }

  std::pair<std::uint64_t, std::uint64_t> parse_offsets(const json& value) const {
    const auto max = std::numeric_limits<std::uint64_t>::max();
    if (!value.is_array() || value.size() != 2 || !as_count(value[0], max) || !as_count(value[1], max)) {
      fail_tensor(fmt::format("data_offsets {} is not a pair [begin,end] of non-negative integers", value.dump()));
    }
    const std::uint64_t begin = *as_count(value[0], max);
    const std::uint64_t end = *as_count(value[1], max);
    if (begin > end) fail_tensor(fmt::format("data_offsets [{},{}] have begin > end", begin, end));
    return {begin, end};
  }

  const std::string& source_;
  const std::string& name_;
};

// The tensors, sorted by offset, must tile the data section exactly: no overlap, gap or trailing bytes.
void check_layout(const std::vector<TensorInfo>& tensors, std::uint64_t data_bytes, const std::string& source) {
  std::uint64_t covered = 0;
  const TensorInfo* previous = nullptr;
  for (const TensorInfo& t : tensors) {
    const std::string where = fmt::format("tensor '{}': data_offsets [{},{}]", t.name, t.begin, t.end);
    if (t.begin < covered) {
      fail(source,
           fmt::format("{} overlap tensor '{}' [{},{}]", where, previous->name, previous->begin, previous->end));
    }
    if (t.begin > covered) {
      fail(source, fmt::format("{} leave a gap: bytes [{},{}) of the data section belong to no tensor", where, covered,
                               t.begin));
    }
    if (t.end > data_bytes) {
      fail(source, fmt::format("{} run past the end of the data section ({} bytes)", where, data_bytes));
    }
    covered = t.end;
    previous = &t;
  }
  if (covered != data_bytes) {
    fail(source,
         fmt::format("{} trailing bytes after the last tensor: the data section has {} bytes, the tensors cover {}",
                     data_bytes - covered, data_bytes, covered));
  }
}

}  // namespace

Header parse_header(std::string_view text, std::uint64_t data_bytes, const std::string& source) {
  if (text.empty() || text.front() != '{') fail(source, "header does not start with '{'");
  if (const auto bad = first_invalid_utf8(text)) {
    fail(source, fmt::format("header is not valid UTF-8 (byte {} of the header)", *bad));
  }
  json root;
  try {
    root = json::parse(text.begin(), text.end(), HeaderGuard(source));
  } catch (const json::exception& e) {
    fail(source, fmt::format("header is not valid JSON: {}", e.what()));
  }

  Header header;
  for (const auto& [key, value] : root.items()) {
    if (key == kMetadataKey) {
      header.metadata = parse_metadata(value, source);
    } else {
      header.tensors.push_back(EntryParser(source, key).parse(value));
    }
  }
  // Ties in begin only occur with empty tensors; ordering by end then keeps the tiling check simple.
  std::sort(header.tensors.begin(), header.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  check_layout(header.tensors, data_bytes, source);
  return header;
}

}  // namespace artabpfn::io_detail
