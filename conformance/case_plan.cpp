// The case plan of the quick and full sets (case_plan.hpp): the attention and model-job cases,
// the realistic shapes kernels are written for, and the models they use.
#include "conformance/case_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "artabpfn/error.hpp"
#include "artabpfn/random_weights.hpp"
#include "artabpfn/model_config.hpp"
#include "tolerance/constants.hpp"

namespace artabpfn::conformance::detail {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

ModelConfig config(int d_model, int n_heads, int n_layers, int d_ff, int buffer_size, int components) {
  ModelConfig c;
  c.d_model = d_model;
  c.n_heads = n_heads;
  c.n_layers = n_layers;
  c.d_ff = d_ff;
  c.buffer_size = buffer_size;
  c.num_components = components;
  return c;
}

}  // namespace

std::uint64_t case_seed(std::uint64_t seed, const std::string& name) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ull;
  return splitmix64(seed ^ h);
}

std::vector<PlannedModel> planned_models(const std::string& set) {
  std::vector<PlannedModel> models = {
      // Dh 6 (not a power of two), buffer_size 4 so that Nt > L is cheap.
      {"small", config(12, 2, 2, 16, 4, 3), true},
      // Dh 5, one layer, buffer_size 2, two components.
      {"odd", config(15, 3, 1, 7, 2, 2), true},
  };
  if (set == "full") models.push_back({"paper", paper_config(), false});
  return models;
}

namespace {

class Planner {
 public:
  Planner(const std::string& set, const std::map<std::string, ModelWeights>& weights) : set_(set), weights_(weights) {}

  std::vector<Planned> cases;
  bool full() const { return set_ == "full"; }

  void attention(const std::string& label, AttentionCase c, std::vector<std::string> families, std::string note = {}) {
    Planned p;
    p.spec.contract = c.contract;
    p.spec.name = c.contract + "." + label;
    p.spec.families = std::move(families);
    p.spec.note = std::move(note);
    auto& params = p.spec.params;
    params = {{"batch", c.batch}, {"heads", c.heads}, {"queries", c.queries}, {"head_dim", c.head_dim}};
    if (c.contract == "shared_context_attention" || c.contract == "fused_attention") {
      params["tasks"] = std::int64_t(c.context_len.size());
      params["context_len_max"] = *std::max_element(c.context_len.begin(), c.context_len.end());
    }
    if (c.contract != "shared_context_attention") {
      params["buffer_capacity"] = c.capacity;
      params["buffer_len"] = c.length;
      p.spec.labels["mask"] = c.teacher_forcing || c.contract == "buffer_attention_teacher_forcing" ? "teacher_forcing"
                                                                                                      : "decode";
    }
    if (c.contract == "buffer_attention_teacher_forcing") c.teacher_forcing = true;
    p.factor = contract(c.contract).factor;
    if (c.grid == InputGrid::kBf16) p.spec.labels["input_grid"] = "bf16";
    if (c.values == ScoreValues::kContextDominates || c.values == ScoreValues::kBufferDominates) {
      p.factor = tolerance::kExtremeScoreFactor;
      p.spec.labels["scores"] = c.values == ScoreValues::kContextDominates ? "context_dominates" : "buffer_dominates";
      p.spec.note += (p.spec.note.empty() ? "" : " ") +
                     std::string("Scores ~1e3: factor 4, as the GPU property ExtremeScoreRanges (both errors are set by "
                                 "the float32 rounding of the scores, and the ratio of two roundings has a tail past 2).");
    }
    if (c.values == ScoreValues::kBeyondFloat16) {
      p.factor = tolerance::kExtremeScoreFactor;
      p.spec.labels["scores"] = "beyond_fp16";
      p.spec.note += (p.spec.note.empty() ? "" : " ") +
                     std::string("Scores ~1.2e5 in magnitude, past binary16's largest value (65504): an fp16 "
                                 "implementation must form them in float32. Factor 4: the errors are set by the "
                                 "float32 rounding of the scores (ulp 0.0078), as with scores ~1e3.");
    }
    p.make = [c](std::uint64_t seed) { return detail::generate_attention(c, seed); };
    cases.push_back(std::move(p));
  }

  void merge(const std::string& label, MergeCase c, std::vector<std::string> families) {
    Planned p;
    p.spec.contract = "merge_states";
    p.spec.name = "merge_states." + label;
    p.spec.families = std::move(families);
    p.spec.params = {{"rows", c.rows}, {"head_dim", c.head_dim}};
    p.spec.labels["lse_scale"] = fmt::format("{:g}", c.lse_scale);
    if (c.gap > 0) p.spec.labels["gap"] = fmt::format("{:g}", c.gap);
    if (c.grid == InputGrid::kBf16) p.spec.labels["input_grid"] = "bf16";
    p.factor = contract("merge_states").factor;
    p.make = [c](std::uint64_t seed) { return detail::generate_merge(c, seed); };
    cases.push_back(std::move(p));
  }

  void model_job(const std::string& label, const std::string& model, ModelJobCase c, std::vector<std::string> families,
                 bool multiprecision) {
    Planned p;
    p.spec.contract = c.contract;
    p.spec.name = c.contract + "." + model + "." + label;
    p.spec.model = model;
    p.spec.families = std::move(families);
    c.weights = &weights_.at(model);
    c.multiprecision = multiprecision && ARTABPFN_HAS_MULTIPRECISION;
    auto& params = p.spec.params;
    if (!c.context_len.empty()) params["tasks"] = std::int64_t(c.context_len.size());
    if (c.contract == "prefill_kv" || c.contract == "teacher_forcing_density" || c.contract == "forced_ar_density" ||
        c.contract == "sample_sequence")
      params["features"] = c.features;
    if (c.contract == "teacher_forcing_density" || c.contract == "forced_ar_density") params["value_sets"] = c.value_sets;
    if (c.contract == "mixture_parameters" || c.contract == "sampler") params["rows"] = c.rows;
    if (c.contract == "sampler") p.spec.labels["stream"] = c.stream;
    if (c.contract == "buffer_kv_append") {
      params["samples"] = c.samples;
      params["step"] = c.step;
      params["context_len"] = c.context_len.at(0);
    }
    if (c.contract == "sample_sequence") {
      params["samples"] = c.samples;
      params["sampling_seed"] = std::int64_t(c.sampling_seed);
    }
    if (c.contract == "sampler" && c.stream == "philox") params["sampling_seed"] = std::int64_t(c.sampling_seed);
    p.factor = contract(c.contract).factor;
    p.make = [c](std::uint64_t seed) { return detail::generate_model_job(c, seed); };
    cases.push_back(std::move(p));
  }

 private:
  std::string set_;
  const std::map<std::string, ModelWeights>& weights_;
};

AttentionCase shared(int batch, int heads, int queries, int head_dim, std::vector<int> context_len,
                     std::vector<int> tasks = {}) {
  AttentionCase c;
  c.contract = "shared_context_attention";
  c.batch = batch;
  c.heads = heads;
  c.queries = queries;
  c.head_dim = head_dim;
  c.context_len = std::move(context_len);
  c.task_of_sample = std::move(tasks);
  return c;
}

AttentionCase buffer(bool teacher_forcing, int batch, int heads, int head_dim, int capacity, int length, int queries = 2) {
  AttentionCase c;
  c.contract = teacher_forcing ? "buffer_attention_teacher_forcing" : "buffer_attention_decode";
  c.batch = batch;
  c.heads = heads;
  c.queries = teacher_forcing ? 2 * length : queries;
  c.head_dim = head_dim;
  c.capacity = capacity;
  c.length = length;
  c.teacher_forcing = teacher_forcing;
  return c;
}

AttentionCase fused(bool teacher_forcing, int batch, int heads, int head_dim, std::vector<int> context_len, int capacity,
                    int length, std::vector<int> tasks = {}, ScoreValues values = ScoreValues::kNormal) {
  AttentionCase c = shared(batch, heads, teacher_forcing ? 2 * length : 2, head_dim, std::move(context_len), std::move(tasks));
  c.contract = "fused_attention";
  c.capacity = capacity;
  c.length = length;
  c.teacher_forcing = teacher_forcing;
  c.values = values;
  return c;
}

ModelJobCase job(const std::string& contract, std::vector<int> context_len, std::vector<int> target_len, int features = 2) {
  ModelJobCase c;
  c.contract = contract;
  c.context_len = std::move(context_len);
  c.target_len = std::move(target_len);
  c.features = features;
  return c;
}

void plan_attention(Planner& p) {
  // Every B from 1 to 65: the GPU kernels' tile (kernels::attention_rows_per_block) is 16 query
  // rows for Dh <= 32 (32 in earlier versions), i.e. 16 samples at Lq = 1: the cases cross several
  // tile boundaries.
  for (int b = 1; b <= 65; ++b)
    p.attention(fmt::format("b{}", b), shared(b, 2, 1, 8, {7}), {"batch_tiles"},
                "Every B from 1 to 65: several tile boundaries of a 16- or 32-row kernel tile.");
  if (p.full()) {
    for (int b = 1; b <= 33; ++b) p.attention(fmt::format("dh64_b{}", b), shared(b, 1, 1, 64, {5}), {"batch_tiles"});
    for (int b = 1; b <= 9; ++b) p.attention(fmt::format("dh256_b{}", b), shared(b, 1, 1, 256, {3}), {"batch_tiles"});
    for (int b = 1; b <= 33; ++b) p.attention(fmt::format("lq2_b{}", b), shared(b, 2, 2, 8, {6}), {"batch_tiles"});
  }
  p.attention("nc0", shared(4, 2, 2, 8, {0}), {"empty_context"});
  p.attention("nc1", shared(3, 2, 2, 8, {1}), {"single_context_row"});
  std::vector<int> dims = {5, 24, 30, 72, 100};
  if (p.full()) dims = {1, 2, 3, 5, 6, 8, 16, 24, 30, 32, 40, 48, 64, 72, 80, 96, 100, 128, 130, 200, 256};
  for (int dh : dims) p.attention(fmt::format("dh{}", dh), shared(3, 2, 2, dh, {9}), {"non_power_of_two_head_dim"});
  p.attention("tasks", shared(9, 2, 2, 8, {0, 1, 5, 12}, {2, 0, 3, 1, 3, 2, 0, 1, 3}), {"several_tasks", "empty_context"},
              "Four tasks of different Nc in one batch; sample 0 reads task 2.");
  p.attention("tasks_tiles", shared(70, 1, 1, 8, {3, 11}, [] {
                std::vector<int> t(70);
                for (int b = 0; b < 70; ++b) t[std::size_t(b)] = (b * 7 / 3) % 2;
                return t;
              }()),
              {"several_tasks", "batch_tiles"}, "Two tasks interleaved across three tiles.");
  p.attention("large_batch", shared(65537, 1, 1, 1, {3}), {"large_grid"},
              "B = 65537 samples: more than 65535 blocks when a launch gives each (sample, head) a block in y.");
  if (p.full())
    p.attention("grid_2m", shared(2097185, 1, 1, 1, {2}), {"large_grid"},
                "B x Lq = 2097185 rows: more than 65535 tiles of 32 rows per head (the CUDA kernels' tiling).");

  p.attention("basic", buffer(false, 5, 2, 8, 7, 5), {});
  p.attention("len0", buffer(false, 3, 2, 8, 4, 0), {"empty_buffer"});
  p.attention("len1", buffer(false, 3, 2, 8, 4, 1), {});
  p.attention("dh30", buffer(false, 4, 2, 30, 6, 6), {"non_power_of_two_head_dim"});
  p.attention("b65", buffer(false, 65, 1, 8, 3, 3, 1), {"batch_tiles"});
  if (p.full())
    for (int b = 1; b <= 65; ++b)  // "b65" is the quick set's (Dh 8); a case's name is its seed, so only this one moves
      p.attention(b == 65 ? "dh16_b65" : fmt::format("b{}", b), buffer(false, b, 1, 16, 4, 4, 1), {"batch_tiles"});

  p.attention("basic", buffer(true, 3, 2, 8, 6, 5), {});
  p.attention("len1", buffer(true, 3, 2, 8, 1, 1), {"empty_buffer"});
  p.attention("dh24", buffer(true, 2, 2, 24, 4, 4), {"non_power_of_two_head_dim"});
  p.attention("b17", buffer(true, 17, 1, 8, 2, 2), {"batch_tiles"}, "17 samples x 4 queries: three tiles of 32 rows.");
  if (p.full()) p.attention("long", buffer(true, 2, 2, 32, 40, 40), {});

  p.attention("decode", fused(false, 5, 2, 8, {6}, 4, 3), {});
  p.attention("teacher_forcing", fused(true, 3, 2, 8, {5}, 4, 4), {});
  p.attention("empty", fused(false, 3, 2, 8, {0}, 2, 0), {"empty_context", "empty_buffer"});
  p.attention("nc0_teacher_forcing", fused(true, 2, 2, 8, {0}, 3, 3), {"empty_context"},
              "Target 0 sees no key at all: (0, -inf).");
  p.attention("tasks", fused(false, 7, 2, 8, {0, 3, 8}, 3, 2, {1, 2, 0, 2, 1, 0, 2}), {"several_tasks"});
  p.attention("tasks_teacher_forcing", fused(true, 5, 2, 8, {4, 0, 9}, 3, 3, {2, 0, 1, 2, 0}), {"several_tasks"});
  p.attention("context_dominates", fused(false, 4, 2, 16, {6}, 5, 5, {}, ScoreValues::kContextDominates),
              {"dominated_scores"});
  p.attention("buffer_dominates", fused(false, 4, 2, 16, {6}, 5, 5, {}, ScoreValues::kBufferDominates),
              {"dominated_scores"});
  p.attention("dh72", fused(true, 2, 2, 72, {7}, 3, 3), {"non_power_of_two_head_dim"});
  p.attention("dh100", fused(false, 2, 1, 100, {5}, 4, 4), {"non_power_of_two_head_dim"});
  if (p.full())
    for (int b = 1; b <= 65; ++b)
      p.attention(fmt::format("b{}", b), fused(false, b, 1, 8, {5}, 3, 3), {"batch_tiles"});

  p.merge("basic", {64, 8, 1.0, 0.1, 0.0}, {});
  p.merge("dh30", {16, 30, 2.0, 0.1, 0.0}, {"non_power_of_two_head_dim"});
  p.merge("dominated", {64, 8, 1.0, 0.05, 1e3}, {"dominated_scores"});
  p.merge("large_lse", {64, 8, 1e4, 0.2, 0.0}, {"dominated_scores"});
  p.merge("all_empty", {8, 8, 1.0, 1.0, 0.0}, {"empty_context", "empty_buffer"});
}

void plan_model_jobs(Planner& p) {
  // small: L = 4 (Nt > L below), Dh 6; odd: L = 2, Dh 5.
  for (const char* contract : {"prefill_kv", "teacher_forcing_density", "forced_ar_density"}) {
    ModelJobCase a = job(contract, {0, 1, 6}, {7, 3, 5});
    a.value_sets = 2;
    p.model_job("tasks", "small", a, {"several_tasks", "empty_context", "single_context_row", "nt_exceeds_buffer_size"}, true);
    ModelJobCase b = job(contract, {4}, {5}, 3);
    p.model_job("single", "odd", b, {"non_power_of_two_head_dim", "nt_exceeds_buffer_size"}, true);
    if (p.full()) {
      ModelJobCase c = job(contract, {20, 0}, {40, 8});
      p.model_job("tasks", "paper", c, {"several_tasks", "empty_context", "nt_exceeds_buffer_size"}, false);
    }
  }
  {
    ModelJobCase c = job("mixture_parameters", {}, {});
    c.rows = 9;
    p.model_job("rows9", "small", c, {}, false);
    c.rows = 5;
    p.model_job("rows5", "odd", c, {}, false);
    if (p.full()) {
      c.rows = 32;
      p.model_job("rows32", "paper", c, {}, false);
    }
  }
  {
    ModelJobCase c = job("sampler", {}, {});
    c.rows = 64;
    c.stream = "given";
    p.model_job("given", "small", c, {}, false);
    c.stream = "philox";
    c.sampling_seed = 0x5eed0001;
    p.model_job("philox", "small", c, {}, false);
    c.rows = 32;
    c.sampling_seed = 0x1234567890abcdefull;
    p.model_job("philox", "odd", c, {}, false);
    if (p.full()) {
      c.rows = 256;
      p.model_job("philox", "paper", c, {}, false);
    }
  }
  {
    ModelJobCase c = job("buffer_kv_append", {5}, {});
    c.samples = 3;
    for (int step : {1, 3, 6}) {
      c.step = step;
      p.model_job(fmt::format("step{}", step), "small", c,
                  step > 4 ? std::vector<std::string>{"nt_exceeds_buffer_size"} : std::vector<std::string>{}, false);
    }
    c.context_len = {0};
    c.step = 3;
    p.model_job("nc0_step3", "odd", c, {"empty_context", "nt_exceeds_buffer_size"}, false);
    if (p.full()) {
      c.context_len = {12};
      c.step = 34;
      c.samples = 2;
      p.model_job("step34", "paper", c, {"nt_exceeds_buffer_size"}, false);
    }
  }
  {
    ModelJobCase c = job("sample_sequence", {0, 5}, {6, 4});
    c.samples = 4;
    c.sampling_seed = 77;
    p.model_job("tasks", "small", c, {"several_tasks", "empty_context", "nt_exceeds_buffer_size"}, false);
    c = job("sample_sequence", {3}, {5}, 1);
    c.samples = 3;
    c.sampling_seed = 0xabcdef;
    p.model_job("single", "odd", c, {"nt_exceeds_buffer_size"}, false);
    if (p.full()) {
      c = job("sample_sequence", {16, 3}, {34, 5});
      c.samples = 4;
      c.sampling_seed = 2026;
      p.model_job("tasks", "paper", c, {"several_tasks", "nt_exceeds_buffer_size"}, false);
    }
  }
}

AttentionCase on_bf16_grid(AttentionCase c) {
  c.grid = InputGrid::kBf16;
  return c;
}

// The shapes kernels are written for (docs/conformance_vectors.md, "Realistic cases"): the
// paper's heads (H 4, Dh 32; "paper_" cases) and larger head dims, contexts and buffers that cross
// key tiles of 16 to 256 keys with a partial last tile, batches across query tiles, tasks of very
// different Nc in one batch; the same on inputs of the bf16 grid where a bf16 or fp16 kernel is
// judged on rounding alone; scores past binary16's range. The quick set keeps one case per
// contract that crosses a 128-key tile.
void plan_realistic_attention(Planner& p) {
  const std::vector<std::string> tiles = {"key_tiles", "paper_shape"};
  const auto with = [](std::vector<std::string> families, const std::string& more) {
    families.push_back(more);
    return families;
  };
  const std::vector<std::string> grid = with(tiles, "bf16_grid");

  p.attention("paper_nc1000_b17", shared(17, 4, 1, 32, {1000}), tiles, "Nc 1000: 7 full tiles of 128 keys and a partial one.");
  p.attention("paper_nc1000_b17_bf16_grid", on_bf16_grid(shared(17, 4, 1, 32, {1000})), grid);
  // Tasks of Nc 0 to 1000 in one batch: empty, one key, both sides of 128- and 256-key tiles.
  const std::vector<int> task_sizes = {0, 1, 127, 129, 256, 1000};
  auto spread = [&](int batch) {
    std::vector<int> t(static_cast<std::size_t>(batch));
    for (int b = 0; b < batch; ++b) t[std::size_t(b)] = (b * 5 + b / 3) % int(task_sizes.size());
    return t;
  };
  p.attention("paper_tasks", shared(24, 4, 1, 32, task_sizes, spread(24)), with(tiles, "several_tasks"),
              "Six tasks of Nc 0, 1, 127, 129, 256 and 1000 interleaved in one batch.");
  p.attention("dh128_nc300", shared(3, 2, 2, 128, {300}), {"key_tiles"});
  p.attention("paper_scores_beyond_fp16", on_bf16_grid([] {
                AttentionCase c = shared(4, 4, 2, 32, {300});
                c.values = ScoreValues::kBeyondFloat16;
                return c;
              }()),
              with(grid, "scores_beyond_fp16"));
  if (p.full()) {
    for (int b : {1, 2, 15, 16, 17, 31, 32, 33, 64, 65, 128, 255, 256, 257, 511, 512})
      p.attention(fmt::format("paper_nc256_b{}", b), shared(b, 4, 1, 32, {256}), with(tiles, "batch_tiles"));
    p.attention("paper_nc1000_b257", shared(257, 4, 1, 32, {1000}), with(tiles, "batch_tiles"));
    p.attention("paper_nc4097_b9", shared(9, 4, 1, 32, {4097}), tiles, "Nc 4097: one key past 16 full tiles of 256.");
    p.attention("paper_nc4097_b9_bf16_grid", on_bf16_grid(shared(9, 4, 1, 32, {4097})), grid);
    p.attention("paper_tasks_b512", shared(512, 4, 1, 32, {0, 1, 15, 16, 17, 127, 128, 129, 255, 256, 257, 600, 1000}, [] {
                  std::vector<int> t(512);
                  for (int b = 0; b < 512; ++b) t[std::size_t(b)] = (b * 7 + b / 5) % 13;
                  return t;
                }()),
                with(with(tiles, "several_tasks"), "batch_tiles"), "13 tasks of Nc 0 to 1000 over 512 samples.");
    p.attention("dh64_nc300", shared(5, 2, 2, 64, {300}), {"key_tiles"});
    p.attention("dh64_nc300_bf16_grid", on_bf16_grid(shared(5, 2, 2, 64, {300})), {"key_tiles", "bf16_grid"});
    p.attention("dh128_nc513", shared(3, 2, 2, 128, {513}), {"key_tiles"});
    p.attention("dh128_nc513_bf16_grid", on_bf16_grid(shared(3, 2, 2, 128, {513})), {"key_tiles", "bf16_grid"});
  }

  p.attention("paper_cap129", buffer(false, 4, 4, 32, 129, 129), tiles, "129 buffer rows: one past a 128-key tile.");
  p.attention("paper_len129", buffer(true, 2, 4, 32, 129, 129), tiles,
              "129 buffer rows under the teacher-forcing mask: the mask's diagonal crosses 64- and 128-key tiles.");
  if (p.full()) {
    p.attention("paper_cap64", buffer(false, 8, 4, 32, 64, 64), {"paper_shape"});
    p.attention("paper_cap200", buffer(false, 4, 4, 32, 200, 200), tiles, "Nt 200.");
    p.attention("paper_cap200_bf16_grid", on_bf16_grid(buffer(false, 4, 4, 32, 200, 200)), grid);
    p.attention("paper_len64", buffer(true, 4, 4, 32, 64, 64), {"paper_shape"});
    p.attention("paper_len200", buffer(true, 2, 4, 32, 200, 200), tiles, "Nt 200.");
    p.attention("paper_len200_bf16_grid", on_bf16_grid(buffer(true, 2, 4, 32, 200, 200)), grid);
    p.attention("dh64_cap129", buffer(false, 3, 2, 64, 129, 129), {"key_tiles"});
  }

  p.attention("paper_nc1000_cap129", fused(false, 4, 4, 32, {1000}, 129, 100), tiles);
  p.attention("paper_nc1000_cap129_bf16_grid", on_bf16_grid(fused(false, 4, 4, 32, {1000}, 129, 100)), grid);
  p.attention("paper_nc256_len129_teacher_forcing", fused(true, 2, 4, 32, {256}, 129, 129), tiles);
  p.attention("paper_scores_beyond_fp16", on_bf16_grid(fused(false, 2, 4, 32, {200}, 64, 64, {}, ScoreValues::kBeyondFloat16)),
              with(grid, "scores_beyond_fp16"));
  if (p.full()) {
    p.attention("paper_tasks_b257", fused(false, 257, 4, 32, {0, 1, 127, 129, 256, 1000}, 64, 64, [] {
                  std::vector<int> t(257);
                  for (int b = 0; b < 257; ++b) t[std::size_t(b)] = (b * 5 + b / 3) % 6;
                  return t;
                }()),
                with(with(tiles, "several_tasks"), "batch_tiles"));
    p.attention("paper_nc1000_len200_teacher_forcing", fused(true, 2, 4, 32, {1000}, 200, 200), tiles);
    p.attention("paper_nc1000_len200_teacher_forcing_bf16_grid", on_bf16_grid(fused(true, 2, 4, 32, {1000}, 200, 200)), grid);
    p.attention("paper_context_dominates", fused(false, 4, 4, 32, {300}, 64, 64, {}, ScoreValues::kContextDominates),
                with(tiles, "dominated_scores"));
    p.attention("dh64_nc300_cap129", fused(false, 3, 2, 64, {300}, 129, 129), {"key_tiles"});
    p.attention("dh128_nc300_len64_teacher_forcing", fused(true, 2, 2, 128, {300}, 64, 64), {"key_tiles"});
  }

  p.merge("paper_mixed_empty", {2048, 32, 1.0, 0.3, 0.0}, {"paper_shape", "mixed_empty_parts"});
  MergeCase grid_merge{2048, 32, 1.0, 0.3, 0.0};
  grid_merge.grid = InputGrid::kBf16;
  p.merge("paper_mixed_empty_bf16_grid", grid_merge, {"paper_shape", "mixed_empty_parts", "bf16_grid"});
  if (p.full()) p.merge("dh128_mixed_empty", {1024, 128, 2.0, 0.3, 0.0}, {"mixed_empty_parts"});
}

// Model jobs: in the quick set, contexts that cross a 128-key tile on the small model; in the
// full set, the paper configuration (D 128, 12 layers, Nc 256, Nt 64) for every job.
void plan_realistic_model_jobs(Planner& p) {
  for (const char* contract : {"prefill_kv", "teacher_forcing_density", "forced_ar_density"}) {
    ModelJobCase c = job(contract, {150, 3}, {5, 2});
    p.model_job("nc150", "small", c, {"key_tiles", "several_tasks", "nt_exceeds_buffer_size"}, false);
  }
  {
    ModelJobCase c = job("buffer_kv_append", {150}, {});
    c.samples = 3;
    c.step = 5;
    p.model_job("nc150_step5", "small", c, {"key_tiles", "nt_exceeds_buffer_size"}, false);
  }
  {
    ModelJobCase c = job("sample_sequence", {150}, {5});
    c.samples = 3;
    c.sampling_seed = 150;
    p.model_job("nc150", "small", c, {"key_tiles", "nt_exceeds_buffer_size"}, false);
  }
  if (!p.full()) return;
  const std::vector<std::string> paper = {"key_tiles", "paper_shape", "nt_exceeds_buffer_size"};
  for (const char* contract : {"prefill_kv", "teacher_forcing_density", "forced_ar_density"}) {
    ModelJobCase c = job(contract, {256}, {64});
    c.value_sets = 2;
    p.model_job("nc256_nt64", "paper", c, paper, false);
  }
  {
    ModelJobCase c = job("mixture_parameters", {}, {});
    c.rows = 257;
    p.model_job("rows257", "paper", c, {"paper_shape"}, false);
    c = job("sampler", {}, {});
    c.rows = 257;
    c.stream = "given";
    p.model_job("given_rows257", "paper", c, {"paper_shape"}, false);
  }
  {
    ModelJobCase c = job("buffer_kv_append", {256}, {});
    c.samples = 2;
    c.step = 64;
    p.model_job("nc256_step64", "paper", c, paper, false);
  }
  {
    ModelJobCase c = job("sample_sequence", {256}, {64});
    c.samples = 4;
    c.sampling_seed = 256;
    p.model_job("nc256_nt64", "paper", c, paper, false);
  }
}

}  // namespace

std::vector<Planned> plan(const std::string& set, const std::map<std::string, ModelWeights>& weights) {
  if (set != "quick" && set != "full") throw InputError("vector set must be 'quick' or 'full', not '" + set + "'");
  Planner p(set, weights);
  plan_attention(p);
  plan_model_jobs(p);
  plan_realistic_attention(p);
  plan_realistic_model_jobs(p);
  std::set<std::string> names;
  for (Planned& c : p.cases) {
    if (!names.insert(c.spec.name).second) throw std::logic_error("two cases named " + c.spec.name);
    c.spec.file = c.spec.name + ".safetensors";
  }
  return std::move(p.cases);
}

std::map<std::string, ModelWeights> model_weights(const std::string& set, std::uint64_t seed) {
  std::map<std::string, ModelWeights> out;
  for (const PlannedModel& m : planned_models(set)) out.emplace(m.name, random_weights(m.config, case_seed(seed, "model." + m.name)));
  return out;
}

}  // namespace artabpfn::conformance::detail
