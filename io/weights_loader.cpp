#include "artabpfn/weights_loader.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <cmath>
#include <set>

#include "artabpfn/error.hpp"

namespace artabpfn {
namespace {

using safetensors::DType;
using safetensors::TensorInfo;

// Prefixes that PyTorch wrappers put on every state_dict name: DataParallel / DistributedDataParallel
// ("module.") and torch.compile ("_orig_mod."); they can be stacked.
constexpr std::array<std::string_view, 2> kWrapperPrefixes = {"module.", "_orig_mod."};
constexpr std::string_view kLayerPrefix = "backbone.layers.";
// __metadata__ keys that carry no configuration: the feature count the model was trained with
// (informational: the weights do not depend on it) and the format tag of PyTorch's safetensors writer.
constexpr std::array<std::string_view, 2> kInformationalKeys = {"num_features", "format"};

// Spec name (prefix stripped) -> the file's tensor.
using TensorsByName = std::map<std::string, const TensorInfo*>;

class Loader {
 public:
  Loader(const safetensors::File& file, const LoadOptions& options)
      : file_(file),
        source_(file.source()),
        notify_(options.notices ? options.notices : stderr_notices()),
        caller_heads_(options.n_heads) {}

  ModelWeights load() {
    index_names();
    ModelWeights weights;
    weights.config = infer_config();
    check_metadata(weights.config);
    const std::vector<TensorSpec> specs = expected_tensors(weights.config);
    report_unknown(specs);
    int upcast = 0;
    for (const TensorSpec& spec : specs) {
      const TensorInfo& t = require(spec.name, shape_to_string(spec.shape));
      if (t.shape != spec.shape) {
        fail(fmt::format("tensor '{}' has shape {}, expected {} for {}", spec.name, shape_to_string(t.shape),
                         shape_to_string(spec.shape), weights.config.to_string()));
      }
      switch (t.dtype) {
        case DType::F32:
          break;
        case DType::F16:
        case DType::BF16:
          ++upcast;
          break;
        case DType::F64:
          fail(
              fmt::format("tensor '{}' is F64, but weights are a float32 state_dict: save them as float32 "
                          "(e.g. model.float() before saving)",
                          spec.name));
        case DType::I32:
        case DType::I64:
          fail(fmt::format("tensor '{}' is {}, but weights are a float32 state_dict", spec.name,
                           safetensors::dtype_name(t.dtype)));
      }
      const HostTensor<float>& loaded = weights.tensors.emplace(spec.name, file_.to_f32(t.name)).first->second;
      expect_finite(t, loaded.data);
    }
    if (upcast > 0) notify(fmt::format("upcast {} F16/BF16 tensor(s) to float32", upcast));
    for (const TensorInfo& t : file_.tensors())  // the tensors that are not used must be finite too
      if (!weights.tensors.contains(spec_name(t)) && is_floating(t.dtype)) expect_finite(t, file_.to_f64(t.name).data);
    return weights;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw InputError(source_ + ": " + what); }
  void notify(const std::string& what) const { notify_(source_ + ": " + what); }

  static bool is_floating(DType dtype) {
    return dtype == DType::F16 || dtype == DType::BF16 || dtype == DType::F32 || dtype == DType::F64;
  }

  // The name a file's tensor has after the wrapper prefix is stripped.
  std::string spec_name(const TensorInfo& t) const { return t.name.substr(prefix_.size()); }

  // Weights must be finite, used or not: a NaN would only show up later as a NaN result.
  template <class T>
  void expect_finite(const TensorInfo& t, const std::vector<T>& values) const {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (std::isfinite(values[i])) continue;
      fail(fmt::format("tensor '{}' holds {} at {} (flat index {} of shape {}): weights must be finite", t.name,
                       std::isnan(values[i]) ? "NaN" : values[i] > 0 ? "Inf" : "-Inf",
                       position_to_string(static_cast<std::int64_t>(i), t.shape), i,
                       shape_to_string(t.shape)));
    }
  }

  // Strips the wrapper prefixes that every name carries (only then: a prefix on some names is no
  // wrapper's doing) and indexes the tensors by the remaining name.
  void index_names() {
    const auto& tensors = file_.tensors();
    const auto all_start_with = [&](const std::string& prefix) {
      return std::all_of(tensors.begin(), tensors.end(),
                         [&](const TensorInfo& t) { return t.name.starts_with(prefix); });
    };
    std::string prefix;
    for (bool found = !tensors.empty(); found;) {
      found = false;
      for (const std::string_view wrapper : kWrapperPrefixes) {
        if (all_start_with(prefix + std::string(wrapper))) {
          prefix += wrapper;
          found = true;
        }
      }
    }
    prefix_ = prefix;
    for (const TensorInfo& t : tensors) by_name_.emplace(spec_name(t), &t);
    if (!prefix.empty()) notify(fmt::format("stripped the prefix '{}' carried by every tensor name", prefix));
  }

  const TensorInfo& require(const std::string& name, const std::string& expected_shape) const {
    const auto it = by_name_.find(name);
    if (it == by_name_.end()) fail(fmt::format("tensor '{}' is missing (expected shape {})", name, expected_shape));
    return *it->second;
  }

  // The first dimension of a tensor whose rank is `rank`; `expected_shape` describes it for errors.
  int leading_dim(const std::string& name, std::size_t rank, const std::string& expected_shape) const {
    const TensorInfo& t = require(name, expected_shape);
    if (t.shape.size() != rank) {
      fail(fmt::format("tensor '{}' has shape {}, expected {}", name, shape_to_string(t.shape), expected_shape));
    }
    if (t.shape[0] > INT_MAX) fail(fmt::format("tensor '{}': dimension {} is too large", name, t.shape[0]));
    return static_cast<int>(t.shape[0]);
  }

  // The layer index of "backbone.layers.{i}.<suffix>", for canonical decimal i (no sign, no leading zero).
  static std::optional<int> layer_index(const std::string& name) {
    if (!name.starts_with(kLayerPrefix)) return std::nullopt;
    const std::string_view rest = std::string_view(name).substr(kLayerPrefix.size());
    const std::size_t dot = rest.find('.');
    if (dot == std::string_view::npos || dot == 0 || (dot > 1 && rest[0] == '0')) return std::nullopt;
    int index = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + dot, index);
    if (ec != std::errc() || end != rest.data() + dot || index < 0) return std::nullopt;
    return index;
  }

  int count_layers() const {
    std::set<int> layers;
    for (const auto& entry : by_name_) {
      if (const auto i = layer_index(entry.first)) layers.insert(*i);
    }
    if (layers.empty()) fail("no backbone.layers.{i}.* tensors: the model needs at least one layer");
    int expected = 0;
    for (const int i : layers) {
      if (i != expected) {
        fail(fmt::format("layer indices must be 0..{} without gaps, but layer {} is missing (found layers {})",
                         layers.size() - 1, expected, fmt::join(layers, ", ")));
      }
      ++expected;
    }
    return expected;
  }

  // n_heads cannot be read off the shapes: the caller's value, else the metadata's (docs/model.md,
  // "The weights file").
  int infer_heads() const {
    std::optional<int> from_file;
    if (const auto it = file_.metadata().find("n_heads"); it != file_.metadata().end()) {
      from_file = parse_positive(it->second);
      if (!from_file) fail(fmt::format("__metadata__ n_heads '{}' is not a positive integer", it->second));
    }
    if (caller_heads_) {
      if (from_file && *from_file != *caller_heads_) {
        notify(fmt::format("using n_heads {} given by the caller instead of {} from the file's __metadata__",
                           *caller_heads_, *from_file));
      }
      return *caller_heads_;
    }
    if (!from_file) fail("n_heads is not in the file's __metadata__: pass it with --n-heads");
    return *from_file;
  }

  ModelConfig infer_config() const {
    ModelConfig config;
    config.n_layers = count_layers();
    config.d_model = leading_dim("embedder.x_embed.weight", 2, "[D, 1]");
    config.d_ff = leading_dim(layer_tensor(0, "ff.0.weight"), 2, "[d_ff, D]");
    config.buffer_size = leading_dim("ar_tokens", 2, "[L, D]");
    config.num_components = leading_dim("head.mean_bias", 1, "[K]");
    config.n_heads = infer_heads();
    try {
      config.validate();
    } catch (const InputError& e) {
      fail(e.what());
    }
    return config;
  }

  // A metadata value that the shapes determine must agree with them; informational keys are
  // accepted; n_heads is infer_heads()'s; any other key gets a notice.
  void check_metadata(const ModelConfig& config) const {
    const std::string layers = fmt::format("backbone.layers.0..{}", config.n_layers - 1);
    const std::string d_ff = layer_tensor(0, "ff.0.weight");
    const struct {
      std::string_view key;
      int value;
      std::string evidence;
    } determined[] = {
        {"d_model", config.d_model, "embedder.x_embed.weight " + shape_of("embedder.x_embed.weight")},
        {"n_layers", config.n_layers, "the tensors hold layers " + layers},
        {"d_ff", config.d_ff, d_ff + " " + shape_of(d_ff)},
        {"buffer_size", config.buffer_size, "ar_tokens " + shape_of("ar_tokens")},
        {"num_components", config.num_components, "head.mean_bias " + shape_of("head.mean_bias")},
    };
    std::vector<std::string> unknown;
    for (const auto& item : file_.metadata()) {
      const std::string& key = item.first;  // not a structured binding: clang 14's lambdas cannot capture one
      const std::string& text = item.second;
      if (key == "n_heads" ||
          std::find(kInformationalKeys.begin(), kInformationalKeys.end(), key) != kInformationalKeys.end())
        continue;
      const auto* field = std::find_if(std::begin(determined), std::end(determined),
                                       [&](const auto& d) { return d.key == key; });
      if (field == std::end(determined)) {
        unknown.push_back(fmt::format("'{}'", key));
        continue;
      }
      if (parse_positive(text) != field->value)
        fail(fmt::format("__metadata__ {} is '{}', but {}: {} {}", key, text, field->evidence, key, field->value));
    }
    if (!unknown.empty())
      notify(fmt::format("ignoring __metadata__ key(s) that the model does not define: {}", fmt::join(unknown, ", ")));
  }

  std::string shape_of(const std::string& name) const { return shape_to_string(by_name_.at(name)->shape); }

  // A positive decimal integer, or nullopt.
  static std::optional<int> parse_positive(const std::string& text) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
    return value;
  }

  void report_unknown(const std::vector<TensorSpec>& specs) const {
    std::set<std::string> known;
    for (const TensorSpec& spec : specs) known.insert(spec.name);
    std::vector<std::string> unknown;
    for (const auto& entry : by_name_) {
      if (!known.contains(entry.first)) unknown.push_back(fmt::format("'{}'", entry.first));
    }
    if (!unknown.empty()) {
      notify(fmt::format("ignoring {} tensor(s) that SPEC.md does not name: {}", unknown.size(),
                         fmt::join(unknown, ", ")));
    }
  }

  const safetensors::File& file_;
  const std::string& source_;
  NoticeSink notify_;
  std::optional<int> caller_heads_;
  std::string prefix_;  // the wrapper prefix every name carries ("" for none)
  TensorsByName by_name_;
};

}  // namespace

ModelWeights weights_from_file(const safetensors::File& file, const LoadOptions& options) {
  return Loader(file, options).load();
}

ModelWeights load_weights(const std::filesystem::path& path, const LoadOptions& options) {
  return weights_from_file(safetensors::File::read(path), options);
}

void save_weights(const ModelWeights& weights, const std::filesystem::path& path) {
  weights.validate();
  safetensors::Writer writer;
  for (const TensorSpec& spec : expected_tensors(weights.config)) writer.add(spec.name, weights.at(spec.name));
  const ModelConfig& c = weights.config;
  writer.set_metadata("d_model", std::to_string(c.d_model));
  writer.set_metadata("n_heads", std::to_string(c.n_heads));
  writer.set_metadata("n_layers", std::to_string(c.n_layers));
  writer.set_metadata("d_ff", std::to_string(c.d_ff));
  writer.set_metadata("buffer_size", std::to_string(c.buffer_size));
  writer.set_metadata("num_components", std::to_string(c.num_components));
  writer.write(path);
}

}  // namespace artabpfn
