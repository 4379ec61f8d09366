// Loading state_dicts into ModelWeights: configuration inference, the errors that name what is
// wrong, and the notices (prefix stripping, upcasts, unknown tensors, n_heads disagreements).
// Synthetic files use a tiny configuration; one test loads the paper-configuration fixture.
#include "artabpfn/weights_loader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "artabpfn/error.hpp"
#include "support/fixtures_dir.hpp"
#include "support/temp_dir.hpp"

namespace artabpfn {
namespace {

using safetensors::DType;

const ModelConfig kTiny{.d_model = 6, .n_heads = 2, .n_layers = 2, .d_ff = 5, .buffer_size = 3, .num_components = 2};
constexpr const char* kSource = "tiny.safetensors";

struct Entry {
  std::string name;
  Shape shape;
  std::vector<float> values;
  DType dtype = DType::F32;
};

// Every tensor of the tiny config, each with distinct values.
std::vector<Entry> tiny_entries() {
  std::vector<Entry> entries;
  float next = 0.0f;
  for (const TensorSpec& spec : expected_tensors(kTiny)) {
    Entry e{spec.name, spec.shape, std::vector<float>(static_cast<std::size_t>(element_count(spec.shape)))};
    for (float& v : e.values) v = (next += 0.125f);
    entries.push_back(std::move(e));
  }
  return entries;
}

Entry& find(std::vector<Entry>& entries, const std::string& name) {
  for (Entry& e : entries) {
    if (e.name == name) return e;
  }
  throw std::logic_error("test setup: no tensor " + name);
}

// Makes a tensor 16-bit; its values become 1, 1.25, 1.5, 1.75, ... (exact in F16 and BF16).
void make_half(Entry& e, DType dtype) {
  e.dtype = dtype;
  for (std::size_t i = 0; i < e.values.size(); ++i) e.values[i] = 1.0f + 0.25f * static_cast<float>(i % 4);
}

std::vector<std::byte> half_bytes(const Entry& e) {
  std::vector<std::byte> out;
  for (const float v : e.values) {
    // 1 + k/4: F16 mantissa k << 8 under exponent 15; BF16 mantissa k << 5 under exponent 127.
    const auto k = static_cast<unsigned>((v - 1.0f) * 4.0f);
    const unsigned bits = e.dtype == DType::F16 ? 0x3C00u + (k << 8) : 0x3F80u + (k << 5);
    out.push_back(static_cast<std::byte>(bits & 0xFF));
    out.push_back(static_cast<std::byte>(bits >> 8));
  }
  return out;
}

safetensors::File build(const std::vector<Entry>& entries,
                        const std::map<std::string, std::string>& metadata = {{"n_heads", "2"}}) {
  safetensors::Writer w;
  for (const Entry& e : entries) {
    if (e.dtype == DType::F32) {
      w.add(e.name, HostTensor<float>(e.shape, e.values));
    } else if (e.dtype == DType::F64) {
      w.add(e.name, HostTensor<double>(e.shape, std::vector<double>(e.values.begin(), e.values.end())));
    } else {
      w.add_raw(e.name, e.dtype, e.shape, half_bytes(e));
    }
  }
  for (const auto& [key, value] : metadata) w.set_metadata(key, value);
  return safetensors::File::parse(w.to_bytes(), kSource);
}

struct Notices {
  std::vector<std::string> lines;
  LoadOptions options(std::optional<int> n_heads = std::nullopt) {
    return LoadOptions{n_heads, [this](const std::string& line) { lines.push_back(line); }};
  }
};

// Runs `load` and returns its InputError message; fails the test when nothing is thrown.
std::string error_of(const std::function<void()>& load) {
  try {
    load();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError";
  return {};
}

std::string load_error(const std::vector<Entry>& entries,
                       const std::map<std::string, std::string>& metadata = {{"n_heads", "2"}},
                       std::optional<int> n_heads = std::nullopt) {
  Notices notices;
  const std::string what =
      error_of([&] { (void)weights_from_file(build(entries, metadata), notices.options(n_heads)); });
  EXPECT_EQ(what.rfind(std::string(kSource) + ": ", 0), 0u) << "the error names the file: " << what;
  return what;
}

using ::testing::HasSubstr;

// --- Configuration inference and values --------------------------------------------------------

TEST(IoTests, WeightsLoaderInfersConfigAndLoadsEveryValue) {
  const auto entries = tiny_entries();
  Notices notices;
  const ModelWeights w = weights_from_file(build(entries), notices.options());
  EXPECT_EQ(w.config, kTiny);
  EXPECT_TRUE(notices.lines.empty());
  ASSERT_EQ(w.tensors.size(), entries.size());
  for (const Entry& e : entries) {
    EXPECT_EQ(w.at(e.name).shape, e.shape) << e.name;
    EXPECT_EQ(w.at(e.name).data, e.values) << e.name;
  }
  EXPECT_NO_THROW(w.validate());
}

TEST(IoTests, WeightsLoaderSaveThenLoadRoundTrips) {
  const ModelWeights original = weights_from_file(build(tiny_entries()), Notices().options());
  const artabpfn::test_support::TempDir dir;
  const auto path = dir / "saved.safetensors";
  save_weights(original, path);

  const auto file = safetensors::File::read(path);
  EXPECT_EQ(file.metadata(), (std::map<std::string, std::string>{{"d_model", "6"},
                                                                 {"n_heads", "2"},
                                                                 {"n_layers", "2"},
                                                                 {"d_ff", "5"},
                                                                 {"buffer_size", "3"},
                                                                 {"num_components", "2"}}));
  for (const safetensors::TensorInfo& t : file.tensors()) EXPECT_EQ(t.dtype, DType::F32) << t.name;
  Notices notices;
  const ModelWeights loaded = load_weights(path, notices.options());
  EXPECT_EQ(loaded.config, original.config);
  EXPECT_TRUE(notices.lines.empty());
  for (const auto& [name, tensor] : original.tensors) EXPECT_EQ(loaded.at(name).data, tensor.data) << name;
}

TEST(IoTests, WeightsLoaderPaperFixtureHasThePaperConfig) {
  const auto path = artabpfn::test_support::fixtures_dir() / "peer" / "paper_weights.safetensors";
  Notices notices;
  const ModelWeights w = load_weights(path, notices.options());
  EXPECT_EQ(w.config, paper_config());
  EXPECT_TRUE(notices.lines.empty()) << notices.lines.front();
  // The file holds exactly the tensors docs/model.md names ("The weights file"), no more.
  std::set<std::string> in_file;
  const auto file = safetensors::File::read(path);
  for (const auto& t : file.tensors()) in_file.insert(t.name);
  std::set<std::string> expected;
  for (const TensorSpec& spec : expected_tensors(paper_config())) expected.insert(spec.name);
  EXPECT_EQ(in_file, expected);
  EXPECT_EQ(w.tensors.size(), 231u);
}

// --- Errors that name the tensor ------------------------------------------------------------

TEST(IoTests, WeightsLoaderMissingTensorIsNamed) {
  auto entries = tiny_entries();
  std::erase_if(entries, [](const Entry& e) { return e.name == "backbone.layers.1.attn_rows.v_proj.weight"; });
  const std::string what = load_error(entries);
  EXPECT_THAT(what, HasSubstr("tensor 'backbone.layers.1.attn_rows.v_proj.weight' is missing"));
  EXPECT_THAT(what, HasSubstr("[6, 6]"));
}

TEST(IoTests, WeightsLoaderFeatureAttentionQueryKeyAreRequired) {
  auto entries = tiny_entries();
  std::erase_if(entries, [](const Entry& e) { return e.name == "backbone.layers.0.attn_features.k_proj.weight"; });
  EXPECT_THAT(load_error(entries), HasSubstr("'backbone.layers.0.attn_features.k_proj.weight' is missing"));
}

TEST(IoTests, WeightsLoaderMisShapedTensorIsNamed) {
  auto entries = tiny_entries();
  Entry& e = find(entries, "backbone.layers.1.norm2.bias");
  e.shape = {5};
  e.values.resize(5);
  const std::string what = load_error(entries);
  EXPECT_THAT(what, HasSubstr("tensor 'backbone.layers.1.norm2.bias' has shape [5], expected [6]"));
}

TEST(IoTests, WeightsLoaderInferenceTensorWithWrongRankIsNamed) {
  auto entries = tiny_entries();
  Entry& e = find(entries, "head.mean_bias");
  e.shape = {1, 2};
  EXPECT_THAT(load_error(entries), HasSubstr("tensor 'head.mean_bias' has shape [1, 2], expected [K]"));
}

TEST(IoTests, WeightsLoaderLayerIndexGapNamesTheMissingLayer) {
  auto entries = tiny_entries();
  // Layers 0 and 1 become 0 and 2.
  for (Entry& e : entries) {
    if (e.name.starts_with("backbone.layers.1.")) e.name.replace(0, 17, "backbone.layers.2");
  }
  const std::string what = load_error(entries);
  EXPECT_THAT(what, HasSubstr("layer 1 is missing"));
  EXPECT_THAT(what, HasSubstr("found layers 0, 2"));
}

TEST(IoTests, WeightsLoaderNoLayersIsAnError) {
  auto entries = tiny_entries();
  std::erase_if(entries, [](const Entry& e) { return e.name.starts_with("backbone.layers."); });
  EXPECT_THAT(load_error(entries), HasSubstr("at least one layer"));
}

TEST(IoTests, WeightsLoaderF64WeightsAreRejected) {
  auto entries = tiny_entries();
  find(entries, "backbone.norm.weight").dtype = DType::F64;
  const std::string what = load_error(entries);
  EXPECT_THAT(what, HasSubstr("tensor 'backbone.norm.weight' is F64"));
  EXPECT_THAT(what, HasSubstr("save them as float32"));
}

TEST(IoTests, WeightsLoaderDModelNotDivisibleByHeads) {
  EXPECT_THAT(load_error(tiny_entries(), {{"n_heads", "4"}}), HasSubstr("d_model 6 is not divisible by n_heads 4"));
}

// --- Notices -----------------------------------------------------------------------------------

TEST(IoTests, WeightsLoaderStripsAPrefixEveryNameCarries) {
  for (const std::string prefix : {"module.", "_orig_mod.", "_orig_mod.module."}) {
    auto entries = tiny_entries();
    for (Entry& e : entries) e.name = prefix + e.name;
    Notices notices;
    const ModelWeights w = weights_from_file(build(entries), notices.options());
    EXPECT_EQ(w.config, kTiny);
    EXPECT_TRUE(w.tensors.contains("ar_tokens"));
    ASSERT_EQ(notices.lines.size(), 1u) << prefix;
    EXPECT_THAT(notices.lines[0], HasSubstr(kSource));
    EXPECT_THAT(notices.lines[0], HasSubstr("stripped the prefix '" + prefix + "'"));
  }
}

TEST(IoTests, WeightsLoaderPrefixOnSomeNamesIsNotStripped) {
  auto entries = tiny_entries();
  find(entries, "ar_tokens").name = "module.ar_tokens";
  EXPECT_THAT(load_error(entries), HasSubstr("tensor 'ar_tokens' is missing"));
}

TEST(IoTests, WeightsLoaderUpcasts16BitTensorsWithOneNotice) {
  auto entries = tiny_entries();
  make_half(find(entries, "embedder.x_embed.weight"), DType::F16);
  make_half(find(entries, "backbone.layers.1.norm1.weight"), DType::BF16);
  make_half(find(entries, "head.mean_bias"), DType::F16);
  Notices notices;
  const ModelWeights w = weights_from_file(build(entries), notices.options());
  ASSERT_EQ(notices.lines.size(), 1u);
  EXPECT_THAT(notices.lines[0], HasSubstr("upcast 3 F16/BF16 tensor(s) to float32"));
  EXPECT_EQ(w.at("embedder.x_embed.weight").data, (std::vector<float>{1, 1.25f, 1.5f, 1.75f, 1, 1.25f}));
  EXPECT_EQ(w.at("backbone.layers.1.norm1.weight").data, find(entries, "backbone.layers.1.norm1.weight").values);
  EXPECT_EQ(w.at("head.mean_bias").data, (std::vector<float>{1, 1.25f}));
}

TEST(IoTests, WeightsLoaderUnknownTensorsGetANoticeNamingThem) {
  auto entries = tiny_entries();
  entries.push_back(Entry{"head.extra_scale", {2}, {1, 2}});
  entries.push_back(Entry{"backbone.layers.0.attn_rows.q_proj.bias", {6}, std::vector<float>(6)});
  Notices notices;
  const ModelWeights w = weights_from_file(build(entries), notices.options());
  EXPECT_EQ(w.config, kTiny);
  EXPECT_FALSE(w.tensors.contains("head.extra_scale"));
  ASSERT_EQ(notices.lines.size(), 1u);
  EXPECT_THAT(notices.lines[0], HasSubstr("ignoring 2 tensor(s)"));
  EXPECT_THAT(notices.lines[0], HasSubstr("'head.extra_scale'"));
  EXPECT_THAT(notices.lines[0], HasSubstr("'backbone.layers.0.attn_rows.q_proj.bias'"));
}

TEST(IoTests, WeightsLoaderDefaultNoticesGoToStderr) {
  auto entries = tiny_entries();
  entries.push_back(Entry{"stray", {1}, {1}});
  ::testing::internal::CaptureStderr();
  (void)weights_from_file(build(entries));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            std::string("artabpfn: ") + kSource + ": ignoring 1 tensor(s) that SPEC.md does not name: 'stray'\n");
}

// --- n_heads -----------------------------------------------------------------------------------

TEST(IoTests, WeightsLoaderHeadsFromMetadata) {
  Notices notices;
  EXPECT_EQ(weights_from_file(build(tiny_entries(), {{"n_heads", "3"}}), notices.options()).config.n_heads, 3);
  EXPECT_TRUE(notices.lines.empty());
}

TEST(IoTests, WeightsLoaderHeadsFromCallerWhenMetadataHasNone) {
  Notices notices;
  EXPECT_EQ(weights_from_file(build(tiny_entries(), {}), notices.options(6)).config.n_heads, 6);
  EXPECT_TRUE(notices.lines.empty());
}

TEST(IoTests, WeightsLoaderHeadsAgreeingValuesGiveNoNotice) {
  Notices notices;
  EXPECT_EQ(weights_from_file(build(tiny_entries()), notices.options(2)).config.n_heads, 2);
  EXPECT_TRUE(notices.lines.empty());
}

TEST(IoTests, WeightsLoaderHeadsCallerWinsWithANotice) {
  Notices notices;
  EXPECT_EQ(weights_from_file(build(tiny_entries(), {{"n_heads", "2"}}), notices.options(3)).config.n_heads, 3);
  ASSERT_EQ(notices.lines.size(), 1u);
  EXPECT_THAT(notices.lines[0], HasSubstr("using n_heads 3 given by the caller instead of 2"));
}

TEST(IoTests, WeightsLoaderHeadsNeitherSaysPassNHeads) {
  EXPECT_THAT(load_error(tiny_entries(), {}), HasSubstr("pass it with --n-heads"));
}

TEST(IoTests, WeightsLoaderHeadsMalformedMetadataIsAnError) {
  for (const std::string bad : {"two", "2.0", "0", "-2", " 2", "", "99999999999"}) {
    EXPECT_THAT(load_error(tiny_entries(), {{"n_heads", bad}}),
                HasSubstr("n_heads '" + bad + "' is not a positive integer"));
  }
}

TEST(IoTests, WeightsLoaderHeadsNonPositiveCallerValueIsAnError) {
  EXPECT_THAT(load_error(tiny_entries(), {}, 0), HasSubstr("n_heads must be positive"));
}

// --- ModelConfig and ModelWeights --------------------------------------------------------------

TEST(IoTests, ModelConfigPaperConfigAndToString) {
  EXPECT_EQ(paper_config().to_string(), "D=128 H=4 layers=12 d_ff=256 L=32 K=20");
  EXPECT_NO_THROW(paper_config().validate());
  EXPECT_EQ(paper_config().head_dim(), 32);
}

TEST(IoTests, ModelConfigValidateNamesTheField) {
  const auto error_for = [](auto change) {
    ModelConfig c = kTiny;
    change(c);
    return error_of([&] { c.validate(); });
  };
  EXPECT_THAT(error_for([](ModelConfig& c) { c.d_model = 0; }), HasSubstr("d_model must be positive, got 0"));
  EXPECT_THAT(error_for([](ModelConfig& c) { c.n_heads = -1; }), HasSubstr("n_heads must be positive, got -1"));
  EXPECT_THAT(error_for([](ModelConfig& c) { c.n_layers = 0; }), HasSubstr("n_layers must be positive"));
  EXPECT_THAT(error_for([](ModelConfig& c) { c.d_ff = 0; }), HasSubstr("d_ff must be positive"));
  EXPECT_THAT(error_for([](ModelConfig& c) { c.buffer_size = 0; }), HasSubstr("buffer_size must be positive"));
  EXPECT_THAT(error_for([](ModelConfig& c) { c.num_components = 1; }),
              HasSubstr("num_components must be at least 2, got 1"));
  EXPECT_THAT(error_for([](ModelConfig& c) { c.n_heads = 4; }), HasSubstr("d_model 6 is not divisible by n_heads 4"));
}

TEST(IoTests, ModelWeightsExpectedTensorsFollowTheSpecList) {
  const auto specs = expected_tensors(kTiny);
  ASSERT_EQ(specs.size(), 5u + 18u * 2u + 10u);
  EXPECT_EQ(specs.front().name, "embedder.x_embed.weight");
  EXPECT_EQ(specs[5].name, "backbone.layers.0.attn_features.q_proj.weight");
  EXPECT_EQ(specs[5 + 18].name, "backbone.layers.1.attn_features.q_proj.weight");
  EXPECT_EQ(specs.back().name, "ar_tokens");
  EXPECT_EQ(specs.back().shape, (Shape{3, 6}));
  EXPECT_EQ(layer_tensor(3, "norm1.weight"), "backbone.layers.3.norm1.weight");
  for (const TensorSpec& s : specs) {
    if (s.name == "head.head.2.weight") {
      EXPECT_EQ(s.shape, (Shape{6, 5}));  // [3K, d_ff]
    }
    if (s.name == "embedder.marker_embed.weight") {
      EXPECT_EQ(s.shape, (Shape{3, 6}));
    }
  }
}

TEST(IoTests, ModelWeightsAtAndValidateNameTheTensor) {
  ModelWeights w = weights_from_file(build(tiny_entries()), Notices().options());
  EXPECT_THAT(error_of([&] { (void)w.at("nope"); }), HasSubstr("tensor 'nope' is missing"));
  w.tensors.at("ar_tokens") = HostTensor<float>({6, 3});
  EXPECT_THAT(error_of([&] { w.validate(); }), HasSubstr("tensor 'ar_tokens' has shape [6, 3], expected [3, 6]"));
  w.tensors.at("ar_tokens") = HostTensor<float>({3, 6}, {1, 2});
  EXPECT_THAT(error_of([&] { w.validate(); }), HasSubstr("tensor 'ar_tokens' holds 2 values"));
  w.tensors.erase("ar_tokens");
  EXPECT_THAT(error_of([&] { w.validate(); }), HasSubstr("tensor 'ar_tokens' is missing"));
}

}  // namespace
}  // namespace artabpfn
