// Weights and NaN (issue 22, items 2 and 10): a non-finite value in any tensor of a weights file
// is refused at load, naming the tensor and the element; metadata that contradicts the tensors is
// an error naming both sides, informational keys are accepted and unknown ones noticed; a value
// far outside the mixture has log density -inf (not NaN), and summaries print in a sane format.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <limits>

#include "artabpfn/error.hpp"
#include "artabpfn/weights_loader.hpp"
#include "tests/cli/cli_inputs.hpp"
#include "tests/cli/cli_run.hpp"
#include "tests/support/temp_dir.hpp"

namespace artabpfn::test_support {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const ModelConfig kSmall{.d_model = 4, .n_heads = 2, .n_layers = 1, .d_ff = 3, .buffer_size = 2, .num_components = 2};

// The tensors of kSmall (values 0.5), plus `extra`, with `metadata`.
safetensors::File small_file(const std::map<std::string, std::string>& metadata,
                             const std::function<void(std::map<std::string, HostTensor<float>>&)>& edit = {}) {
  std::map<std::string, HostTensor<float>> tensors;
  for (const TensorSpec& spec : expected_tensors(kSmall))
    tensors.emplace(spec.name, HostTensor<float>(spec.shape, std::vector<float>(std::size_t(element_count(spec.shape)), 0.5f)));
  if (edit) edit(tensors);
  safetensors::Writer w;
  for (const auto& [name, t] : tensors) w.add(name, t);
  for (const auto& [key, value] : metadata) w.set_metadata(key, value);
  return safetensors::File::parse(w.to_bytes(), "small.safetensors");
}

std::string load_error(const safetensors::File& file) {
  try {
    (void)weights_from_file(file, {std::nullopt, [](const std::string&) {}});
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError";
  return {};
}

TEST(IoTests, WeightsFiniteANonFiniteValueInAnyTensorIsRefusedWithItsElement) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  // A tensor the model uses, one it loads but whose value never matters, and one it ignores.
  EXPECT_THAT(load_error(small_file({{"n_heads", "2"}}, [&](auto& t) { t.at("head.head.0.weight").data[5] = nan; })),
              HasSubstr("tensor 'head.head.0.weight' holds NaN at [1, 1] (flat index 5 of shape [3, 4])"));
  EXPECT_THAT(load_error(small_file({{"n_heads", "2"}}, [&](auto& t) {
                t.at("backbone.layers.0.attn_features.q_proj.weight").data[0] = -inf;
              })),
              HasSubstr("tensor 'backbone.layers.0.attn_features.q_proj.weight' holds -Inf at [0, 0]"));
  EXPECT_THAT(load_error(small_file({{"n_heads", "2"}}, [&](auto& t) {
                t.emplace("unused.scale", HostTensor<float>({2}, {1.0f, inf}));
              })),
              HasSubstr("tensor 'unused.scale' holds Inf at [1]"));
}

TEST(IoTests, WeightsMetadataAValueTheShapesContradictIsAnErrorNamingBothSides) {
  EXPECT_THAT(load_error(small_file({{"n_heads", "2"}, {"n_layers", "6"}})),
              HasSubstr("__metadata__ n_layers is '6', but the tensors hold layers backbone.layers.0..0: n_layers 1"));
  EXPECT_THAT(load_error(small_file({{"n_heads", "2"}, {"buffer_size", "16"}})),
              HasSubstr("__metadata__ buffer_size is '16', but ar_tokens [2, 4]: buffer_size 2"));
  EXPECT_THAT(load_error(small_file({{"n_heads", "2"}, {"d_model", "four"}})),
              HasSubstr("__metadata__ d_model is 'four', but embedder.x_embed.weight [4, 1]: d_model 4"));
  EXPECT_THAT(load_error(small_file({{"n_heads", "2"}, {"num_components", "3"}})), HasSubstr("head.mean_bias [2]"));
  EXPECT_THAT(load_error(small_file({{"n_heads", "2"}, {"d_ff", "8"}})),
              HasSubstr("backbone.layers.0.ff.0.weight [3, 4]: d_ff 3"));
}

TEST(IoTests, WeightsMetadataInformationalKeysAreAcceptedAndUnknownOnesNoticed) {
  std::vector<std::string> notices;
  const LoadOptions options{std::nullopt, [&](const std::string& line) { notices.push_back(line); }};
  const std::map<std::string, std::string> agreeing = {{"n_heads", "2"}, {"d_model", "4"}, {"n_layers", "1"},
                                                       {"d_ff", "3"},    {"buffer_size", "2"}, {"num_components", "2"},
                                                       {"num_features", "7"}, {"format", "pt"}};
  EXPECT_EQ(weights_from_file(small_file(agreeing), options).config, kSmall);
  EXPECT_TRUE(notices.empty()) << notices.front();
  (void)weights_from_file(small_file({{"n_heads", "2"}, {"learning_rate", "0.1"}}), options);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_THAT(notices[0], HasSubstr("ignoring __metadata__ key(s) that the model does not define: 'learning_rate'"));
  // The caller's n_heads still wins with its notice.
  notices.clear();
  EXPECT_EQ(weights_from_file(small_file({{"n_heads", "4"}}), {2, options.notices}).config.n_heads, 2);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_THAT(notices[0], HasSubstr("using n_heads 2 given by the caller instead of 4"));
}

// --- the command line ----------------------------------------------------------------------------

// The paper weights with one value and one metadata entry changed.
std::string edited_paper_weights(const std::filesystem::path& path, const std::string& tensor, float value,
                                 const std::string& key, const std::string& text) {
  const safetensors::File paper = safetensors::File::read(peer("paper_weights.safetensors"));
  safetensors::Writer w;
  for (const auto& info : paper.tensors()) {
    HostTensor<float> t = paper.to_f32(info.name);
    if (info.name == tensor) t.data[3] = value;
    w.add(info.name, t);
  }
  for (const auto& [k, v] : paper.metadata()) w.set_metadata(k, k == key ? text : v);
  w.write(path);
  return path.string();
}

TEST(CliTests, NanWeightsWithANanExitTwo) {
  const TempDir dir;
  const std::string weights = edited_paper_weights(dir / "nan.safetensors", "backbone.layers.7.ff.2.bias",
                                                   std::numeric_limits<float>::quiet_NaN(), "", "");
  const CommandResult r = run_cli("density --backend reference --weights " + weights + " --inputs " + peer("paper_io.safetensors"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("tensor 'backbone.layers.7.ff.2.bias' holds NaN at [3]"));
}

TEST(CliTests, WeightsMetadataThatContradictsTheTensorsExitsTwo) {
  const TempDir dir;
  const std::string weights = edited_paper_weights(dir / "six.safetensors", "", 0.0f, "n_layers", "6");
  const CommandResult r = run_cli("density --backend reference --weights " + weights + " --inputs " + peer("paper_io.safetensors"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("__metadata__ n_layers is '6', but the tensors hold layers backbone.layers.0..11"));
}

TEST(CliTests, NanAValueFarOutsideTheMixtureHasLogDensityMinusInfinityNotNan) {
  const TempDir dir;
  for (const double y : {1e155, 1e300}) {
    TaskTensors t = paper_task0();
    t.y_target->data[3] = y;
    const std::string inputs = write_task(dir / "far.safetensors", t), out = (dir / "far.csv").string();
    const CommandResult r = run_cli("density --backend reference --weights " + peer("paper_weights.safetensors") +
                                    " --inputs " + inputs + " --out " + out);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("joint log density -inf"));
    const std::string csv = read_text(out);
    EXPECT_THAT(csv, Not(HasSubstr("nan")));
    EXPECT_THAT(csv, HasSubstr(",-inf,"));  // target 3, and only it
    EXPECT_EQ(csv.find("inf"), csv.rfind("inf"));
  }
}

TEST(CliTests, NanSummariesOfHugeLogDensitiesAreShort) {
  const TempDir dir;
  TaskTensors t = paper_task0();
  t.y_target->data[3] = 1e100;
  const CommandResult r = run_cli("density --backend reference --weights " + peer("paper_weights.safetensors") +
                                  " --inputs " + write_task(dir / "big.safetensors", t) + " --out " +
                                  (dir / "big.csv").string());
  EXPECT_EQ(r.status, 0) << r.output;
  const std::size_t at = r.output.find("joint log density ");
  ASSERT_NE(at, std::string::npos) << r.output;
  const std::string value = r.output.substr(at + 18, r.output.find('\n', at) - at - 18);
  EXPECT_LE(value.size(), 22u) << value;
  EXPECT_THAT(value, HasSubstr("e+")) << value;
}

}  // namespace
}  // namespace artabpfn::test_support
