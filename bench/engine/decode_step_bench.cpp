// One AR decode step on the paper configuration (weights from a file, random task values):
// B samples of one task, Nc context rows, Nt targets, timed at step t (sampling included).
// Each point: device-event median over --replays replays of the same step after 5 warm-up
// replays, launched eagerly (one launch per kernel) and as the context's CUDA graph replay,
// for fused and split attention, with the layers as one launch of thread block clusters
// (SessionOptions::decode_layers kClusters, "cluster"; the default, kAuto, takes it from 32 samples
// up to one wave of clusters, with up to 18 more samples on per-layer launches beside the wave;
// the "clustered" column: samples on the cluster step), as per-layer launches
// with each LayerNorm and the K/V append in the launch of the product before it
// (SessionOptions::fuse_epilogues, "fused"), and with separate LayerNorm and append launches
// ("plain"), in the engine's precision of --precision (the tensor-core precisions have no cluster
// step and no fused epilogues: their variants are the same per-layer launches). First checks that graph replay of the default path and eager launches of the plain
// path give bitwise the same samples and densities.
#include <CLI/CLI.hpp>
#include <fmt/format.h>


#include "artabpfn/weights_loader.hpp"
#include "bench/engine/random_task.hpp"
#include "bench/stamp/stamp.hpp"
#include "engine/profiling.hpp"
#include "engine/session.hpp"
#include "kernels/decode.hpp"
#include "tolerance/bitwise.hpp"
#include "tolerance/precision.hpp"

namespace {

using namespace artabpfn;

bool same_bits(const HostTensor<float>& a, const HostTensor<float>& b) { return tolerance::bitwise_equal(a.data, b.data); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"decode_step_bench: one decode step, eager vs CUDA graph"};
  std::string weights_path;
  int replays = 100, step = 32;
  std::int64_t nc = 256, nt = 64;
  bool large = false, no_check = false, default_only = false;
  std::vector<std::int64_t> batches = {1, 256, 4096};
  std::vector<std::string> modes = {"fused", "split"};
  std::string precision_name = "float32";
  app.add_option("--weights", weights_path, "paper-config weights (e.g. fixtures/peer/paper_weights.safetensors)")->required();
  app.add_option("--replays", replays, "timed replays per point");
  app.add_option("--step", step, "the step t timed");
  app.add_option("--nc", nc, "context rows");
  app.add_option("--nt", nt, "targets (buffer capacity)");
  app.add_flag("--large", large, "add B 65536");
  app.add_option("--batches", batches, "sample counts B");
  app.add_option("--modes", modes, "attention modes (fused, split)");
  app.add_flag("--no-check", no_check, "skip the graph-vs-eager sample_sequence check");
  app.add_flag("--default-only", default_only, "time only the default path (SessionOptions' defaults)");
  app.add_option("--precision", precision_name, "the engine's precision (SessionOptions::precision)")
      ->check(CLI::IsMember(tolerance::kJudgedEnginePrecisions));
  CLI11_PARSE(app, argc, argv);
  const engine::Precision precision = engine::parse_precision(precision_name);
  const ModelWeights weights = load_weights(weights_path);
  const engine::DeviceModel model(weights);
  fmt::print("{}\nmodel: {}\ncluster step: {} clusters of 8 blocks resident at once\n", bench::stamp_line(),
             weights.config.to_string(), kernels::cluster_decode_resident_clusters());
  const TaskTensors task = bench::random_task(nc, nt, 0, 1);
  const TaskTensors density_task = bench::random_task(nc, nt, 64, 5);

  // Options of one timed variant: graphs or eager, the layers' launches.
  struct Variant {
    const char* name;
    bool fuse_epilogues;
    engine::DecodeLayers layers;
  };
  const auto options = [precision](engine::AttentionMode mode, bool graphs, const Variant& v) {
    engine::SessionOptions o{mode, 0, [](const std::string&) {}, graphs, v.fuse_epilogues};
    o.decode_layers = v.layers;
    o.precision = precision;
    return o;
  };
  const Variant automatic{"default", true, engine::DecodeLayers::kAuto};
  const Variant cluster{"cluster", true, engine::DecodeLayers::kClusters};
  const Variant fused{"fused", true, engine::DecodeLayers::kPerLayer};
  const Variant plain{"plain", false, engine::DecodeLayers::kPerLayer};

  // Graph replay of the cluster step (with split attention: the per-layer launches) and eager
  // launches of separate LayerNorm and append kernels agree bit for bit.
  for (const auto mode : {engine::AttentionMode::kFused, engine::AttentionMode::kSplit}) {
    if (no_check) break;
    engine::Session graph(model, options(mode, true, cluster));
    engine::Session eager(model, options(mode, false, plain));
    const bool same = same_bits(graph.sample_sequence(task, 256, 11), eager.sample_sequence(task, 256, 11));
    const bool same_density = same_bits(graph.evaluate_joint_density(density_task), eager.evaluate_joint_density(density_task));
    fmt::print("B 256 {}: sample_sequence graph+cluster vs eager+plain bitwise {}; density {}\n",
               engine::attention_mode_name(mode), same ? "equal" : "DIFFERENT", same_density ? "equal" : "DIFFERENT");
    if (!same || !same_density) return 1;
  }

  fmt::print("\none decode step in {}, Nc {}, Nt {}, t {}, median of {} replays (us)\n", precision_name, nc, nt, step,
             replays);
  fmt::print("{:>6} {:>7} {:>8} {:>11} {:>11} {:>7} {:>9}\n", "B", "attn", "layers", "eager us", "graph us", "nodes",
             "clustered");
  if (large) batches.push_back(65536);
  for (const std::int64_t b : batches)
    for (const std::string& name : modes) {
      const engine::AttentionMode mode = engine::parse_attention_mode(name);
      const bool clusters = mode == engine::AttentionMode::kFused;  // the cluster step is fused attention's
      for (const Variant* variant : {&automatic, &cluster, &fused, &plain}) {
        const Variant& v = *variant;
        // Over 2048 rows the LayerNorms and the append fall back to separate launches: the "fused"
        // row then has as many nodes as the "plain" one.
        if (default_only != (variant == &automatic) || (variant == &cluster && !clusters)) continue;
        const engine::SessionOptions o = options(mode, true, v);
        const engine::StepTiming t = engine::time_decode_step(model, o, task, b, step, replays);
        const engine::DecodePlan plan = engine::Session(model, o).decode_plan(task, b);
        fmt::print("{:>6} {:>7} {:>8} {:>11.1f} {:>11.1f} {:>7} {:>9}\n", b, engine::attention_mode_name(mode), v.name,
                   t.eager_us, t.graph_us, t.graph_nodes, plan.clustered);
        std::fflush(stdout);
      }
    }
  return 0;
}
