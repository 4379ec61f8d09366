// One AR decode step on the paper configuration (weights from a file, random task values):
// B samples of one task, Nc context rows, Nt targets, timed at step t (sampling included).
// Each point: device-event median over --replays replays of the same step after 5 warm-up
// replays, launched eagerly (one launch per kernel) and as the context's CUDA graph replay,
// for fused attention as the resident step (one kernel a step, --groups samples per block) and
// as the layered step (a kernel per stage), and for split attention (layered). Also checks that
// sample_sequence and the densities are bitwise the same across those paths.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstring>

#include "artabpfn/weights_loader.hpp"
#include "bench/engine/random_task.hpp"
#include "engine/inference_context.hpp"
#include "kernels/device_info.hpp"

namespace {

using namespace artabpfn;

bool same_bits(const HostTensor<float>& a, const HostTensor<float>& b) {
  return a.data.size() == b.data.size() && std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"decode_step_bench: one decode step, eager vs CUDA graph"};
  std::string weights_path;
  int replays = 100, step = 32;
  std::int64_t nc = 256, nt = 64;
  bool large = false, no_check = false, no_plain = false, no_layered = false;
  std::vector<std::int64_t> batches = {1, 256, 4096};
  std::vector<int> groups = {0};
  std::vector<std::string> modes = {"fused", "split"};
  app.add_option("--weights", weights_path, "paper-config weights (e.g. fixtures/peer/paper_weights.safetensors)")->required();
  app.add_option("--replays", replays, "timed replays per point");
  app.add_option("--step", step, "the step t timed");
  app.add_option("--nc", nc, "context rows");
  app.add_option("--nt", nt, "targets (buffer capacity)");
  app.add_flag("--large", large, "add B 65536");
  app.add_option("--batches", batches, "sample counts B");
  app.add_option("--modes", modes, "attention modes (fused, split)");
  app.add_flag("--no-check", no_check, "skip the graph-vs-eager sample_sequence check");
  app.add_flag("--no-plain", no_plain, "layered step: time only the LayerNorm-fused variant");
  app.add_flag("--no-layered", no_layered, "fused attention: time only the resident step");
  app.add_option("--groups", groups, "resident step: samples per thread block (0: the engine's choice)");
  CLI11_PARSE(app, argc, argv);
  const ModelWeights weights = load_weights(weights_path);
  const engine::DeviceModel model(weights);
  fmt::print("GPU: {}\nmodel: {}\n", kernels::gpu_description(), weights.config.to_string());
  const TaskTensors task = bench::random_task(nc, nt, 0, 1);
  const TaskTensors density_task = bench::random_task(nc, nt, 64, 5);

  // Every path agrees bit for bit with the eager layered step with separate LayerNorm launches:
  // fused attention as the resident step (graph), split attention layered with LayerNorm fused
  // into the products (graph).
  const auto quiet = [](engine::AttentionMode mode, bool graphs, bool fuse_ln, bool resident) {
    engine::ContextOptions o{mode, 0, [](const std::string&) {}, graphs, fuse_ln};
    o.resident_decode = resident;
    return o;
  };
  for (const auto mode : {engine::AttentionMode::kFused, engine::AttentionMode::kSplit}) {
    if (no_check) break;
    engine::InferenceContext fast(model, quiet(mode, true, mode == engine::AttentionMode::kSplit, true));
    engine::InferenceContext eager(model, quiet(mode, false, false, false));
    const bool same = same_bits(fast.sample_sequence(task, 256, 11), eager.sample_sequence(task, 256, 11));
    const bool same_density = same_bits(fast.forced_ar_density(density_task), eager.forced_ar_density(density_task));
    fmt::print("B 256 {}: sample_sequence and forced AR density, {} vs eager layered plain-LN: bitwise {}; {}\n",
               engine::attention_mode_name(mode),
               mode == engine::AttentionMode::kFused ? "resident step" : "graph + fused LN", same ? "equal" : "DIFFERENT",
               same_density ? "equal" : "DIFFERENT");
    if (!same || !same_density) return 1;
  }

  fmt::print("\none decode step, Nc {}, Nt {}, t {}, median of {} replays (us)\n", nc, nt, step, replays);
  fmt::print("{:>6} {:>7} {:>18} {:>11} {:>11} {:>7}\n", "B", "attn", "step", "eager us", "graph us", "nodes");
  if (large) batches.push_back(65536);
  const auto row = [&](std::int64_t b, engine::AttentionMode mode, const engine::ContextOptions& options,
                       const std::string& label) {
    engine::InferenceContext context(model, options);
    const engine::StepTiming t = context.time_decode_step(task, b, step, replays);
    const std::string kind = t.resident_group > 0 ? fmt::format("resident G {}", t.resident_group) : label;
    fmt::print("{:>6} {:>7} {:>18} {:>11.1f} {:>11.1f} {:>7}\n", b, engine::attention_mode_name(mode), kind,
               t.eager_us, t.graph_us, t.graph_nodes);
    if (!t.resident_stages_us.empty()) {  // thread block 0's stage clock
      std::string stages = "        block 0 stages (us):";
      for (const auto& [name, us] : t.resident_stages_us) stages += fmt::format(" {} {:.1f}", name, us);
      fmt::print("{}\n", stages);
    }
    std::fflush(stdout);
  };
  for (const std::int64_t b : batches)
    for (const std::string& name : modes) {
      const engine::AttentionMode mode = engine::parse_attention_mode(name);
      if (mode == engine::AttentionMode::kFused)
        for (const int g : groups) {
          engine::ContextOptions o = quiet(mode, true, false, true);
          o.resident_group = g;
          row(b, mode, o, "resident");
        }
      if (mode == engine::AttentionMode::kFused && no_layered) continue;
      for (const bool fuse_ln : {true, false}) {
        if (!fuse_ln && (b >= 65536 || no_plain)) continue;
        row(b, mode, quiet(mode, true, fuse_ln, false), fuse_ln ? "layered LN fused" : "layered LN plain");
      }
    }
  return 0;
}
