// The safetensors reader and writer: round trips, exact 16-bit float widening, and one case per
// way a file can be malformed, each checked for an error that names the file, the tensor and the fault.
#include "artabpfn/safetensors.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>

#include "artabpfn/error.hpp"
#include "support/temp_dir.hpp"

namespace artabpfn::safetensors {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<std::byte> text_bytes(const std::string& text) {
  std::vector<std::byte> out;
  for (const char c : text) out.push_back(static_cast<std::byte>(c));
  return out;
}

std::vector<std::byte> le_bytes(std::uint64_t value, std::size_t width) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i < width; ++i) out.push_back(static_cast<std::byte>((value >> (8 * i)) & 0xFF));
  return out;
}

std::vector<std::byte> concat(std::vector<std::byte> a, const std::vector<std::byte>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A file image: the header's true length, the header, then `data_bytes` zero bytes.
std::vector<std::byte> image(const std::string& header, std::size_t data_bytes) {
  return concat(concat(le_bytes(header.size(), 8), text_bytes(header)), std::vector<std::byte>(data_bytes));
}

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  const std::string& offsets) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
}

std::vector<std::byte> halves(const std::vector<std::uint16_t>& bits) {
  std::vector<std::byte> out;
  for (const std::uint16_t b : bits) out = concat(std::move(out), le_bytes(b, 2));
  return out;
}

float read_f16(std::uint16_t bits) {
  Writer w;
  w.add_raw("h", DType::F16, {1}, halves({bits}));
  return File::parse(w.to_bytes(), "f16").to_f32("h").data.at(0);
}

bool same_bits(float a, float b) { return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b); }

// --- Round trips -----------------------------------------------------------------------------

TEST(IoTests, SafetensorsRoundTripEveryDtypeAndMetadata) {
  const HostTensor<float> f32({2, 3}, {1.0f, -2.5f, 3.25f, kInf, -0.0f, std::numeric_limits<float>::denorm_min()});
  const HostTensor<double> f64({3}, {3.141592653589793, -1e300, std::numeric_limits<double>::denorm_min()});
  const HostTensor<std::int64_t> i64(
      {2, 2}, {std::numeric_limits<std::int64_t>::min(), -1, 0, std::numeric_limits<std::int64_t>::max()});
  const std::vector<std::int32_t> i32 = {std::numeric_limits<std::int32_t>::min(), -1, 0, 7,
                                         std::numeric_limits<std::int32_t>::max()};
  std::vector<std::byte> i32_bytes;
  for (const std::int32_t v : i32)
    i32_bytes = concat(std::move(i32_bytes), le_bytes(std::bit_cast<std::uint32_t>(v), 4));

  Writer w;
  w.add("f32", f32);
  w.add("f64", f64);
  w.add("i64", i64);
  w.add_raw("i32", DType::I32, {5}, i32_bytes);
  w.add_raw("f16", DType::F16, {2}, halves({0x3C00, 0xC100}));    // 1, -2.5
  w.add_raw("bf16", DType::BF16, {2}, halves({0x3F80, 0xC020}));  // 1, -2.5
  w.set_metadata("format", "pt");
  w.set_metadata("n_heads", "4");

  const artabpfn::test_support::TempDir dir;
  const auto path = dir / "round_trip.safetensors";
  w.write(path);
  const File file = File::read(path);

  EXPECT_EQ(file.source(), path.string());
  EXPECT_EQ(file.metadata(), (std::map<std::string, std::string>{{"format", "pt"}, {"n_heads", "4"}}));
  ASSERT_EQ(file.tensors().size(), 6u);
  EXPECT_EQ(file.info("f32").dtype, DType::F32);
  EXPECT_EQ(file.info("i32").dtype, DType::I32);
  EXPECT_EQ(file.info("bf16").shape, (Shape{2}));

  const auto f32_back = file.to_f32("f32");
  EXPECT_EQ(f32_back.shape, f32.shape);
  for (std::size_t i = 0; i < f32.data.size(); ++i) EXPECT_TRUE(same_bits(f32_back.data[i], f32.data[i])) << i;
  EXPECT_EQ(file.to_f64("f32").data, std::vector<double>(f32.data.begin(), f32.data.end()));
  EXPECT_EQ(file.to_f64("f64").data, f64.data);
  EXPECT_EQ(file.to_f64("f64").shape, f64.shape);
  EXPECT_EQ(file.to_i64("i64").data, i64.data);
  EXPECT_EQ(file.to_i64("i64").shape, i64.shape);
  EXPECT_EQ(file.to_i64("i32").data, std::vector<std::int64_t>(i32.begin(), i32.end()));
  EXPECT_EQ(file.to_f32("f16").data, (std::vector<float>{1.0f, -2.5f}));
  EXPECT_EQ(file.to_f32("bf16").data, (std::vector<float>{1.0f, -2.5f}));
  EXPECT_EQ(file.to_f64("bf16").data, (std::vector<double>{1.0, -2.5}));
  const auto raw = file.bytes("i32");
  EXPECT_EQ(std::vector<std::byte>(raw.begin(), raw.end()), i32_bytes);
}

TEST(IoTests, SafetensorsRoundTripLayoutIsContiguousAndAligned) {
  Writer w;
  w.add("b", HostTensor<float>({3}, {1, 2, 3}));
  w.add("a", HostTensor<double>({1}, {4}));
  const auto bytes = w.to_bytes();
  std::uint64_t header = 0;
  for (int i = 7; i >= 0; --i)
    header = (header << 8) | std::to_integer<std::uint64_t>(bytes[static_cast<std::size_t>(i)]);
  EXPECT_EQ((8 + header) % 8, 0u) << "the writer pads the header so that data starts 8-byte aligned";
  const File file = File::parse(bytes, "layout");
  ASSERT_EQ(file.tensors().size(), 2u);
  EXPECT_EQ(file.tensors()[0].name, "b");  // sorted by offset, which is insertion order
  EXPECT_EQ(file.tensors()[0].begin, 0u);
  EXPECT_EQ(file.tensors()[0].end, 12u);
  EXPECT_EQ(file.tensors()[1].begin, 12u);
  EXPECT_EQ(file.tensors()[1].end, 20u);
}

TEST(IoTests, SafetensorsRoundTripScalarAndEmptyTensors) {
  Writer w;
  w.add("scalar", HostTensor<float>(Shape{}, {7.5f}));
  w.add("empty", HostTensor<float>(Shape{0, 3}));
  w.add("also_empty", HostTensor<std::int64_t>(Shape{2, 0}));
  const File file = File::parse(w.to_bytes(), "edges");
  EXPECT_EQ(file.to_f32("scalar").data, std::vector<float>{7.5f});
  EXPECT_EQ(file.to_f32("scalar").shape, Shape{});
  EXPECT_TRUE(file.to_f32("empty").data.empty());
  EXPECT_EQ(file.to_f32("empty").shape, (Shape{0, 3}));
  EXPECT_TRUE(file.to_i64("also_empty").data.empty());
}

TEST(IoTests, SafetensorsReaderAcceptsWhatTheFormatAllows) {
  // An empty header, whitespace padding after the JSON, and several empty tensors at one offset.
  EXPECT_TRUE(File::parse(image("{}", 0), "empty").tensors().empty());
  EXPECT_EQ(File::parse(image("{\"__metadata__\":{}}  \t\n\r ", 0), "padded").metadata().size(), 0u);
  const std::string header = "{" + entry("z1", "F32", "[0]", "[0,0]") + "," + entry("a", "F32", "[1]", "[0,4]") + "," +
                             entry("z2", "I64", "[4,0]", "[4,4]") + "," + entry("z3", "F16", "[0,2]", "[0,0]") + "}";
  const File file = File::parse(image(header, 4), "empties");
  EXPECT_EQ(file.tensors().size(), 4u);
  EXPECT_EQ(file.to_f32("a").data, std::vector<float>{0.0f});
}

TEST(IoTests, SafetensorsReaderConversionsRefuseLossOrWrongKind) {
  Writer w;
  w.add("f64", HostTensor<double>({1}, {0.1}));
  w.add("f32", HostTensor<float>({1}, {0.5f}));
  w.add("i64", HostTensor<std::int64_t>({1}, {3}));
  const File file = File::parse(w.to_bytes(), "kinds.safetensors");
  const auto expect_error = [](auto call, const std::string& tensor, const std::string& phrase) {
    try {
      call();
      ADD_FAILURE() << "no error for " << tensor;
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("kinds.safetensors"), std::string::npos) << what;
      EXPECT_NE(what.find("'" + tensor + "'"), std::string::npos) << what;
      EXPECT_NE(what.find(phrase), std::string::npos) << what;
    }
  };
  expect_error([&] { (void)file.to_f32("f64"); }, "f64", "F64");
  expect_error([&] { (void)file.to_f32("i64"); }, "i64", "not a floating-point tensor");
  expect_error([&] { (void)file.to_f64("i64"); }, "i64", "not a floating-point tensor");
  expect_error([&] { (void)file.to_i64("f32"); }, "f32", "not an integer tensor");
}

TEST(IoTests, SafetensorsReaderMissingTensorIsNamed) {
  Writer w;
  w.add("present", HostTensor<float>({1}, {1}));
  const File file = File::parse(w.to_bytes(), "lookup.safetensors");
  EXPECT_TRUE(file.contains("present"));
  EXPECT_FALSE(file.contains("absent"));
  for (const auto& call :
       std::vector<std::function<void()>>{[&] { (void)file.info("absent"); }, [&] { (void)file.to_f32("absent"); },
                                          [&] { (void)file.to_i64("absent"); }, [&] { (void)file.bytes("absent"); }}) {
    try {
      call();
      ADD_FAILURE() << "no error for a missing tensor";
    } catch (const InputError& e) {
      EXPECT_STREQ(e.what(), "lookup.safetensors: tensor 'absent' is missing");
    }
  }
}

TEST(IoTests, SafetensorsReaderUnreadablePathIsNamed) {
  const artabpfn::test_support::TempDir dir;
  for (const auto& path : {dir / "does_not_exist.safetensors", dir.path()}) {
    try {
      (void)File::read(path);
      ADD_FAILURE() << "no error for " << path;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    }
  }
}

TEST(IoTests, SafetensorsWriterRefusesWhatWouldNotReadBack) {
  Writer w;
  w.add("t", HostTensor<float>({1}, {1}));
  EXPECT_THROW(w.add("t", HostTensor<float>({1}, {2})), InputError);
  EXPECT_THROW(w.add("__metadata__", HostTensor<float>({1}, {2})), InputError);
  EXPECT_THROW(w.add_raw("short", DType::F32, {2}, std::vector<std::byte>(7)), InputError);
  EXPECT_THROW(w.add_raw("negative", DType::F32, {-1}, {}), InputError);
  EXPECT_THROW(w.add("mismatch", HostTensor<float>({3}, {1, 2})), InputError);
  EXPECT_EQ(File::parse(w.to_bytes(), "kept").tensors().size(), 1u);
}

// --- 16-bit floats -----------------------------------------------------------------------------

TEST(IoTests, HalfFloatsKnownF16Patterns) {
  EXPECT_EQ(read_f16(0x3C00), 1.0f);
  EXPECT_EQ(read_f16(0xC100), -2.5f);
  EXPECT_EQ(read_f16(0x7BFF), 65504.0f);                 // largest finite
  EXPECT_EQ(read_f16(0x0400), 6.103515625e-05f);         // smallest normal, 2^-14
  EXPECT_EQ(read_f16(0x0001), 5.9604644775390625e-08f);  // smallest subnormal, 2^-24
  EXPECT_EQ(read_f16(0x03FF), 6.097555160522461e-05f);   // largest subnormal, 1023 * 2^-24
  EXPECT_EQ(read_f16(0x8001), -5.9604644775390625e-08f);
  EXPECT_TRUE(same_bits(read_f16(0x0000), 0.0f));
  EXPECT_TRUE(same_bits(read_f16(0x8000), -0.0f));
  EXPECT_EQ(read_f16(0x7C00), kInf);
  EXPECT_EQ(read_f16(0xFC00), -kInf);
  EXPECT_TRUE(std::isnan(read_f16(0x7E00)));
  EXPECT_TRUE(std::isnan(read_f16(0x7C01)));  // signalling-NaN pattern stays NaN
  EXPECT_TRUE(std::signbit(read_f16(0xFE00)) && std::isnan(read_f16(0xFE00)));
}

TEST(IoTests, HalfFloatsKnownBF16Patterns) {
  Writer w;
  w.add_raw("b", DType::BF16, {8}, halves({0x3F80, 0xC020, 0x7F7F, 0x0001, 0x8000, 0x7F80, 0xFF80, 0x7FC0}));
  const auto v = File::parse(w.to_bytes(), "bf16").to_f32("b").data;
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], -2.5f);
  EXPECT_EQ(v[2], 3.3895313892515355e+38f);  // largest finite, (2 - 2^-7) * 2^127
  EXPECT_EQ(v[3], 9.183549615799121e-41f);   // smallest subnormal, 2^-133
  EXPECT_TRUE(same_bits(v[4], -0.0f));
  EXPECT_EQ(v[5], kInf);
  EXPECT_EQ(v[6], -kInf);
  EXPECT_TRUE(std::isnan(v[7]));
}

// Every one of the 65536 patterns against the IEEE 754 definition evaluated in double arithmetic:
// (-1)^s * 2^(e - bias) * (1 + m / 2^mbits) for normals, (-1)^s * 2^(1 - bias) * m / 2^mbits for subnormals.
double ieee_value(std::uint16_t bits, int exponent_bits, int mantissa_bits) {
  const int bias = (1 << (exponent_bits - 1)) - 1;
  const int max_exponent = (1 << exponent_bits) - 1;
  const double sign = (bits >> 15) != 0 ? -1.0 : 1.0;
  const int e = (bits >> mantissa_bits) & max_exponent;
  const double m = bits & ((1 << mantissa_bits) - 1);
  const double fraction = m / std::pow(2.0, mantissa_bits);
  if (e == max_exponent) return m == 0 ? sign * std::numeric_limits<double>::infinity() : std::nan("");
  if (e == 0) return sign * std::pow(2.0, 1 - bias) * fraction;
  return sign * std::pow(2.0, e - bias) * (1.0 + fraction);
}

void check_all_patterns(DType dtype, int exponent_bits, int mantissa_bits) {
  std::vector<std::uint16_t> all(65536);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint16_t>(i);
  Writer w;
  w.add_raw("all", dtype, {65536}, halves(all));
  const auto values = File::parse(w.to_bytes(), "all").to_f64("all").data;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const double expected = ieee_value(all[i], exponent_bits, mantissa_bits);
    if (std::isnan(expected)) {
      ASSERT_TRUE(std::isnan(values[i])) << std::hex << i;
    } else {
      ASSERT_EQ(values[i], expected) << std::hex << i;
      ASSERT_EQ(std::signbit(values[i]), (i & 0x8000) != 0) << std::hex << i;
    }
  }
}

TEST(IoTests, HalfFloatsEveryF16PatternIsExact) { check_all_patterns(DType::F16, 5, 10); }
TEST(IoTests, HalfFloatsEveryBF16PatternIsExact) { check_all_patterns(DType::BF16, 8, 7); }

// --- Malformed files ---------------------------------------------------------------------------

struct Malformed {
  std::string name;  // test name; the source is name + ".safetensors"
  std::vector<std::byte> bytes;
  std::vector<std::string> phrases;  // the error must contain each
};

void PrintTo(const Malformed& m, std::ostream* os) { *os << m.name; }

std::vector<Malformed> malformed_cases() {
  const std::string a8 = entry("a", "F32", "[2]", "[0,8]");
  return {
      {"empty_file", {}, {"0 bytes", "too short"}},
      {"seven_bytes", std::vector<std::byte>(7), {"7 bytes", "too short"}},
      {"header_length_past_end",
       concat(le_bytes(100, 8), text_bytes("{}")),
       {"header length 100", "past the end of the file"}},
      {"header_length_over_limit",
       concat(le_bytes(100'000'001, 8), text_bytes("{}")),
       {"100000001", "exceeds the limit"}},
      {"header_empty", image("", 0), {"does not start with '{'"}},
      {"header_not_object", image("[]", 0), {"does not start with '{'"}},
      {"header_leading_space", image(" {}", 0), {"does not start with '{'"}},
      {"invalid_json", image("{\"a\": ", 0), {"not valid JSON"}},
      {"json_then_garbage", image("{} x", 0), {"not valid JSON"}},
      {"invalid_utf8", image("{\"w\xff\":1}", 0), {"not valid UTF-8"}},
      {"overlong_utf8", image("{\"\xc0\xaf\":1}", 0), {"not valid UTF-8"}},
      {"surrogate_utf8", image("{\"\xed\xa0\x80\":1}", 0), {"not valid UTF-8"}},
      {"truncated_utf8", image("{\"\xe2\x82\":1}", 0), {"not valid UTF-8"}},
      {"duplicate_tensor", image("{" + a8 + "," + a8 + "}", 8), {"tensor 'a'", "appears twice"}},
      {"duplicate_field",
       image("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
       {"tensor 'a'", "duplicate key 'dtype'"}},
      {"duplicate_metadata", image("{\"__metadata__\":{},\"__metadata__\":{}}", 0), {"__metadata__", "twice"}},
      {"metadata_value_not_string", image("{\"__metadata__\":{\"k\":1}}", 0), {"__metadata__", "'k'", "not a string"}},
      {"metadata_not_object", image("{\"__metadata__\":[\"k\"]}", 0), {"__metadata__", "not a JSON object"}},
      {"metadata_null", image("{\"__metadata__\":null}", 0), {"__metadata__", "not a JSON object"}},
      {"entry_not_object", image("{\"a\":3}", 0), {"tensor 'a'", "not a JSON object"}},
      {"missing_field",
       image("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,0]}}", 0),
       {"tensor 'a'", "missing field 'shape'"}},
      {"unexpected_field",
       image("{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4],\"x\":0}}", 4),
       {"tensor 'a'", "unexpected field 'x'"}},
      {"unknown_dtype", image("{" + entry("a", "Q7", "[2]", "[0,8]") + "}", 8), {"tensor 'a'", "unknown dtype 'Q7'"}},
      {"unsupported_dtype",
       image("{" + entry("a", "U8", "[2]", "[0,2]") + "}", 2),
       {"tensor 'a'", "unsupported dtype 'U8'"}},
      {"dtype_not_string",
       image("{\"a\":{\"dtype\":4,\"shape\":[],\"data_offsets\":[0,4]}}", 4),
       {"tensor 'a'", "dtype is number"}},
      {"negative_dimension",
       image("{" + entry("a", "F32", "[2,-1]", "[0,8]") + "}", 8),
       {"tensor 'a'", "-1", "non-negative"}},
      {"fractional_dimension",
       image("{" + entry("a", "F32", "[2.0]", "[0,8]") + "}", 8),
       {"tensor 'a'", "2.0", "non-negative"}},
      {"nested_shape",
       image("{" + entry("a", "F32", "[[2]]", "[0,8]") + "}", 8),
       {"tensor 'a'", "field 'shape'", "nests"}},
      {"shape_not_array", image("{" + entry("a", "F32", "2", "[0,8]") + "}", 8), {"tensor 'a'", "shape is number"}},
      {"size_mismatch",
       image("{" + entry("a", "F32", "[2,2]", "[0,12]") + "}", 12),
       {"tensor 'a'", "hold 12 bytes", "needs 16"}},
      {"overflowing_shape",
       image("{" + entry("a", "F32", "[4294967296,4294967296]", "[0,0]") + "}", 0),
       {"tensor 'a'", "overflows"}},
      {"overflow_behind_zero",
       image("{" + entry("a", "F32", "[0,4611686018427387904,4]", "[0,0]") + "}", 0),
       {"tensor 'a'", "overflows"}},
      {"offsets_not_pair",
       image("{" + entry("a", "F32", "[0]", "[0]") + "}", 0),
       {"tensor 'a'", "data_offsets [0]", "pair"}},
      {"negative_offset",
       image("{" + entry("a", "F32", "[2]", "[-8,0]") + "}", 0),
       {"tensor 'a'", "data_offsets", "non-negative"}},
      {"begin_after_end",
       image("{" + entry("a", "F32", "[2]", "[8,0]") + "}", 8),
       {"tensor 'a'", "[8,0]", "begin > end"}},
      {"overlap",
       image("{" + a8 + "," + entry("b", "F32", "[2]", "[4,12]") + "}", 12),
       {"tensor 'b'", "[4,12]", "overlap tensor 'a' [0,8]"}},
      {"gap", image("{" + a8 + "," + entry("b", "F32", "[2]", "[12,20]") + "}", 20), {"tensor 'b'", "gap", "[8,12)"}},
      {"gap_at_start", image("{" + entry("a", "F32", "[2]", "[8,16]") + "}", 16), {"tensor 'a'", "gap", "[0,8)"}},
      {"past_data_end", image("{" + a8 + "}", 4), {"tensor 'a'", "past the end of the data section", "4 bytes"}},
      {"trailing_bytes", image("{" + a8 + "}", 12), {"4 trailing bytes", "12 bytes"}},
      {"trailing_bytes_no_tensors", image("{}", 3), {"3 trailing bytes"}},
  };
}

// The fixture of the parametrized IoTests: one malformed file each.
class IoTests : public ::testing::TestWithParam<Malformed> {};

TEST_P(IoTests, MalformedFileErrorNamesFileTensorAndFault) {
  const Malformed& m = GetParam();
  const std::string source = m.name + ".safetensors";
  try {
    (void)File::parse(m.bytes, source);
    FAIL() << "accepted";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(source + ": ", 0), 0u) << what;
    for (const std::string& phrase : m.phrases) EXPECT_NE(what.find(phrase), std::string::npos) << what;
  }
}

INSTANTIATE_TEST_SUITE_P(Safetensors, IoTests, ::testing::ValuesIn(malformed_cases()),
                         [](const ::testing::TestParamInfo<Malformed>& param) { return param.param.name; });

}  // namespace
}  // namespace artabpfn::safetensors
