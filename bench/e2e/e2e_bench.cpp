// e2e_bench: whole engine calls and single decode steps on the paper configuration, each set
// against the time floor its FLOPs and minimal bytes imply on ceilings measured in this process
// (method: bench/engine/NOTES.md, "End-to-end benchmarks"). Writes one JSON file, rewritten after
// every point so that a run cut short keeps what it measured ("complete": false).
//
// Sections, in this order (a time budget skips what would not fit, saying so):
//   ceilings  FP32 FMA kernel and device-to-device copy, measured here
//   steps     one decode step (Nc 256, Nt 64, t 10: the PyTorch baseline's shape), eager and graph
//   profiles  one decode step split into stages (split attention, t 32), B 1, 256, 65536
//   points    sample_sequence and evaluate_joint_density, one factor at a time around
//             B 256, Nc 256, Nt 64, attention fused, split and reencode
// Steps and points run in each precision of --precisions (default float32); the floors are those
// of FP32 FMA arithmetic whatever the precision.
#include <CLI/CLI.hpp>
#include <cuda_runtime.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>

#include "artabpfn/median.hpp"
#include "artabpfn/sha256.hpp"
#include "artabpfn/weights_loader.hpp"
#include "bench/ceilings/ceilings.hpp"
#include "bench/e2e/alloc_tracker.hpp"
#include "bench/e2e/cost_model.hpp"
#include "bench/engine/random_task.hpp"
#include "bench/stamp/stamp.hpp"
#include "engine/profiling.hpp"
#include "engine/session.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/device.hpp"
#include "tolerance/precision.hpp"

namespace {

using namespace artabpfn;
using json = nlohmann::ordered_json;
using engine::AttentionMode;
using engine::Precision;

engine::SessionOptions options_for(AttentionMode mode, Precision precision, NoticeSink notices) {
  engine::SessionOptions options{mode, 0, std::move(notices)};
  options.precision = precision;
  return options;
}

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr std::int64_t kFeatures = 2;  // bench::random_task's feature count

struct Settings {
  std::string name;
  std::vector<std::int64_t> batches, contexts, targets;
  std::int64_t center_b = 256, center_nc = 256, center_nt = 64;
  std::vector<std::int64_t> step_batches;
  std::int64_t step_nc = 256, step_nt = 64;
  int step_t = 10;
  std::vector<std::int64_t> profile_batches;
  int profile_t = 32;
  double budget_s = 250, reencode_cap_s = 8;
  // The engine's precisions timed (steps and points; reencode runs in float32 only).
  std::vector<engine::Precision> precisions = {engine::Precision::kFloat32};
};

Settings settings_for(const std::string& name) {
  Settings s;
  s.name = name;
  if (name == "full") {
    s.batches = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536};
    s.contexts = {64, 256, 1024, 4096, 16384};
    s.targets = {16, 32, 64, 128, 256, 512, 1024};
    s.step_batches = {1, 256, 1024, 16384, 65536};
    s.profile_batches = {1, 256, 65536};
  } else if (name == "quick") {
    s.batches = {1, 256};
    s.contexts = {256};
    s.targets = {16, 64};
    s.step_batches = {1, 256};
    s.profile_batches = {256};
    s.budget_s = 40;
  } else {  // smoke: tiny shapes for the GPU test
    s.batches = {1, 4};
    s.contexts = {16};
    s.targets = {4};
    s.center_b = 4;
    s.center_nc = 16;
    s.center_nt = 4;
    s.step_batches = {4};
    s.step_nc = 16;
    s.step_nt = 4;
    s.step_t = 2;
    s.profile_batches = {4};
    s.profile_t = 2;
    s.budget_s = 60;
  }
  return s;
}

std::size_t free_device_bytes() {
  std::size_t free_bytes = 0, total = 0;
  ARTABPFN_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
  return free_bytes;
}

// One synchronised engine call: CUDA events on the legacy default stream, which waits for and is
// waited on by the context's (blocking) stream, so the interval spans the whole call as the GPU
// sees it (host work inside the call included); and the host clock for comparison.
struct CallTime {
  double event_ms = 0, host_ms = 0;
};

template <class F>
CallTime time_call(F&& call) {
  cudaEvent_t start = nullptr, stop = nullptr;
  ARTABPFN_CUDA_CHECK(cudaEventCreate(&start));
  ARTABPFN_CUDA_CHECK(cudaEventCreate(&stop));
  const auto host_start = std::chrono::steady_clock::now();
  ARTABPFN_CUDA_CHECK(cudaEventRecord(start, cudaStreamLegacy));
  call();
  ARTABPFN_CUDA_CHECK(cudaEventRecord(stop, cudaStreamLegacy));
  ARTABPFN_CUDA_CHECK(cudaEventSynchronize(stop));
  CallTime t;
  t.host_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - host_start).count();
  float ms = 0;
  ARTABPFN_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  t.event_ms = double(ms);
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return t;
}

json floor_json(const bench::Cost& cost, const bench::Ceilings& ceil, double measured_s) {
  const bench::Floor f = bench::time_floor(cost, ceil);
  return {{"flops", cost.flops},         {"bytes", cost.bytes},       {"compute_floor_s", f.compute_s},
          {"memory_floor_s", f.memory_s}, {"floor_s", f.floor_s},      {"bound", f.bound},
          {"floor_fraction", bench::floor_fraction(f, measured_s)}};
}

class Bench {
 public:
  Bench(const Settings& s, const ModelWeights& weights, const engine::DeviceModel& model, json& out,
        std::filesystem::path out_path)
      : s_(s), model_(model), out_(out), out_path_(std::move(out_path)) {
    const ModelConfig& c = weights.config;
    shapes_ = {c.d_model, c.n_heads, c.n_layers, c.d_ff, c.num_components, kFeatures};
  }

  double elapsed_s() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  double left_s() const { return s_.budget_s - elapsed_s(); }

  void save() {
    out_["elapsed_s"] = elapsed_s();
    const std::filesystem::path tmp = out_path_.string() + ".tmp";
    std::ofstream(tmp) << out_.dump(1) << "\n";
    std::filesystem::rename(tmp, out_path_);
  }

  void ceilings() {
    const bench::MeasuredCeilings m = bench::measure_ceilings(s_.name != "full");
    ceil_ = {m.fma_flops_per_s, m.copy_bytes_per_s};
    out_["ceilings"] = {
        {"fma_flops_per_s", m.fma_flops_per_s},
        {"copy_bytes_per_s", m.copy_bytes_per_s},
        {"fma_method", "FP32 fmaf, 16 independent chains per thread, 8 blocks of 256 threads per SM; median of 9 "
                       "after 2 warm-ups (CUDA events); a multiply-add counts 2"},
        {"copy_method", fmt::format("cudaMemcpyAsync device to device of {} MiB, (read + written bytes) / time; "
                                    "median of 9 after 2 warm-ups",
                                    m.copy_size_bytes / (1024.0 * 1024.0))},
        {"properties_flops_per_s", m.properties_flops_per_s},
        {"properties_bytes_per_s", m.properties_bytes_per_s},
        {"properties_method", "SMs x 128 FP32 lanes x 2 x SM clock; 2 x memory clock x bus width (device attributes)"}};
    fmt::print("ceilings: FP32 FMA {:.1f} TFLOP/s (properties {:.1f}), copy {:.0f} GB/s (properties {:.0f})\n",
               m.fma_flops_per_s / 1e12, m.properties_flops_per_s / 1e12, m.copy_bytes_per_s / 1e9,
               m.properties_bytes_per_s / 1e9);
    save();
  }

  // One decode step at step_t, eager and as a graph replay (engine::time_decode_step).
  void steps() {
    json& list = out_["steps"];
    const TaskTensors task = bench::random_task(s_.step_nc, s_.step_nt, 0, 1);
    fmt::print("\ndecode step, Nc {}, Nt {}, t {} (us)\n{:>6} {:>6} {:>9} {:>10} {:>10} {:>6} {:>9} {:>8}\n", s_.step_nc,
               s_.step_nt, s_.step_t, "B", "attn", "precision", "eager", "graph", "nodes", "floor", "%floor");
    for (const std::int64_t b : s_.step_batches)
      for (const Precision precision : s_.precisions)
        for (const AttentionMode mode : {AttentionMode::kFused, AttentionMode::kSplit}) {
          json rec = {{"b", b},
                      {"nc", s_.step_nc},
                      {"nt", s_.step_nt},
                      {"t", s_.step_t},
                      {"mode", engine::attention_mode_name(mode)},
                      {"precision", engine::precision_name(precision)}};
          const int replays = b <= 1024 ? 50 : (b <= 16384 ? 20 : 5);
          rec["replays"] = replays;
          if (!fits(rec, bench::sample_bytes(shapes_, b, s_.step_nc, s_.step_nt)) || !in_budget(rec, b >= 65536 ? 4.0 : 1.0)) {
            list.push_back(rec);
            continue;
          }
          try {
            const engine::StepTiming t =
                engine::time_decode_step(model_, options_for(mode, precision, [](const std::string&) {}), task, b,
                                         s_.step_t, replays);
            rec["status"] = "ok";
            rec["eager_us"] = t.eager_us;
            rec["graph_us"] = t.graph_us;
            rec["graph_nodes"] = t.graph_nodes;
            rec["floor"] = floor_json(bench::step_cost(shapes_, b, s_.step_nc, s_.step_t), ceil_, t.graph_us * 1e-6);
            fmt::print("{:>6} {:>6} {:>9} {:>10.1f} {:>10.1f} {:>6} {:>9.1f} {:>7.1f}%\n", b,
                       engine::attention_mode_name(mode), engine::precision_name(precision), t.eager_us, t.graph_us,
                       t.graph_nodes, rec["floor"]["floor_s"].get<double>() * 1e6,
                       100.0 * rec["floor"]["floor_fraction"].get<double>());
          } catch (const std::exception& e) {
            error(rec, e);
          }
          list.push_back(rec);
          save();
        }
  }

  // Where one decode step goes (engine::profile_decode_step), split attention.
  void profiles() {
    json& list = out_["profiles"];
    const TaskTensors task = bench::random_task(s_.step_nc, s_.step_nt, 0, 1);
    for (const std::int64_t b : s_.profile_batches) {
      json rec = {{"b", b}, {"nc", s_.step_nc}, {"nt", s_.step_nt}, {"t", s_.profile_t}, {"mode", "split"}};
      const int replays = b <= 1024 ? 30 : 5;
      rec["replays"] = replays;
      if (!fits(rec, bench::sample_bytes(shapes_, b, s_.step_nc, s_.step_nt)) || !in_budget(rec, b >= 65536 ? 6.0 : 1.0)) {
        list.push_back(rec);
        continue;
      }
      try {
        const engine::StepProfile p = engine::profile_decode_step(
            model_, {AttentionMode::kSplit, 0, [](const std::string&) {}}, task, b, s_.profile_t, replays);
        rec["status"] = "ok";
        json stages = json::array();
        double sum = 0;
        for (const engine::StageTime& st : p.stages) {
          stages.push_back({{"stage", st.stage}, {"us", st.us}});
          sum += st.us;
        }
        rec["stages"] = stages;
        rec["sum_of_stage_medians_us"] = sum;
        rec["staged_us"] = p.staged_us;
        rec["eager_us"] = p.eager_us;
        rec["graph_us"] = p.graph_us;
        rec["graph_nodes"] = p.graph_nodes;
        rec["queued_ahead"] = p.queued_ahead;
        rec["host_launch_gaps_us"] = p.eager_us - p.staged_us;
        rec["graph_minus_staged_us"] = p.graph_us - p.staged_us;
        rec["floor"] = floor_json(bench::step_cost(shapes_, b, s_.step_nc, s_.profile_t), ceil_, p.graph_us * 1e-6);
        fmt::print("\nprofile B {} split t {}: staged {:.1f} us, eager {:.1f}, graph {:.1f}{}\n", b, s_.profile_t,
                   p.staged_us, p.eager_us, p.graph_us, p.queued_ahead ? "" : " (gate timed out: host gaps included)");
        for (const engine::StageTime& st : p.stages)
          fmt::print("  {:<18} {:>10.1f} us {:>6.1f}%\n", st.stage, st.us, 100.0 * st.us / p.staged_us);
      } catch (const std::exception& e) {
        error(rec, e);
      }
      list.push_back(rec);
      save();
    }
  }

  // The one-factor sweeps: every (B, Nc, Nt) once, with the sweeps it belongs to.
  void points() {
    struct Shape {
      std::int64_t b, nc, nt;
      std::vector<std::string> sweeps;
    };
    std::vector<Shape> shapes;
    const auto add = [&](std::int64_t b, std::int64_t nc, std::int64_t nt, const std::string& sweep) {
      for (Shape& sh : shapes)
        if (sh.b == b && sh.nc == nc && sh.nt == nt) {
          if (std::find(sh.sweeps.begin(), sh.sweeps.end(), sweep) == sh.sweeps.end()) sh.sweeps.push_back(sweep);
          return;
        }
      shapes.push_back({b, nc, nt, {sweep}});
    };
    // B first, then Nt (the speed-up over reencode), then Nc, each ascending; the largest value of
    // each axis (the longest calls) last, so that a tight budget loses those first.
    // The centre first: every mode's reference (and an upper bound of the smaller points' time).
    const auto head = [](const std::vector<std::int64_t>& v) { return std::vector<std::int64_t>(v.begin(), v.end() - 1); };
    add(s_.center_b, s_.center_nc, s_.center_nt, "B");
    for (std::int64_t b : head(s_.batches)) add(b, s_.center_nc, s_.center_nt, "B");
    for (std::int64_t nt : head(s_.targets)) add(s_.center_b, s_.center_nc, nt, "Nt");
    for (std::int64_t nc : head(s_.contexts)) add(s_.center_b, nc, s_.center_nt, "Nc");
    add(s_.batches.back(), s_.center_nc, s_.center_nt, "B");
    add(s_.center_b, s_.center_nc, s_.targets.back(), "Nt");
    add(s_.center_b, s_.contexts.back(), s_.center_nt, "Nc");
    json& list = out_["points"];
    fmt::print("\n{:<8} {:>6} {:>6} {:>5} {:>9} {:>9} {:>11} {:>7} {:>9} {:>8} {:>9}\n", "job", "B", "Nc", "Nt", "mode",
               "precision", "median ms", "reps", "floor ms", "%floor", "peak GiB");
    for (const Shape& sh : shapes)
      for (const char* job : {"sample", "density"})
        for (const AttentionMode mode : {AttentionMode::kFused, AttentionMode::kSplit, AttentionMode::kReencode})
          for (const Precision precision : s_.precisions) {
            if (mode == AttentionMode::kReencode && precision != Precision::kFloat32) continue;
            json rec = point(job, mode, precision, sh.b, sh.nc, sh.nt);
            rec["sweeps"] = sh.sweeps;
            list.push_back(rec);
            save();
          }
  }

 private:
  struct Done {
    std::string job;
    AttentionMode mode;
    Precision precision;
    double work, seconds;
  };

  bool fits(json& rec, double needs_bytes) {
    const double budget = double(free_device_bytes()) / 10.0 * 9.0;  // the engine's default budget
    rec["needs_bytes"] = needs_bytes;
    if (needs_bytes <= budget) return true;
    rec["status"] = "skipped";
    rec["reason"] = fmt::format("needs {:.1f} GiB, {:.1f} GiB available (90% of free device memory; the engine "
                                "would run it in chunks)",
                                needs_bytes / kGiB, budget / kGiB);
    fmt::print("  B {} Nc {} Nt {}: skipped: needs {:.1f} GiB\n", rec.value("b", 0), rec.value("nc", 0),
               rec.value("nt", 0), needs_bytes / kGiB);
    return false;
  }

  bool in_budget(json& rec, double predicted_s) {
    if (elapsed_s() + predicted_s <= s_.budget_s) return true;
    rec["status"] = "skipped";
    rec["reason"] = fmt::format("time budget: about {:.1f} s predicted, {:.1f} s of {:.0f} s left", predicted_s,
                                std::max(0.0, left_s()), s_.budget_s);
    return false;
  }

  void error(json& rec, const std::exception& e) {
    rec["status"] = "error";
    rec["reason"] = e.what();
    fmt::print("  error: {}\n", e.what());
  }

  // Seconds predicted from the largest measured point of the same job, mode and precision with no more work,
  // scaled by the work ratio (an overestimate where the GPU is not yet full), and at most the time
  // of the smallest measured point with more work. None without a smaller measured point.
  std::optional<double> predict(const std::string& job, AttentionMode mode, Precision precision, double work) const {
    const Done *below = nullptr, *above = nullptr;
    for (const Done& d : done_) {
      if (d.job != job || d.mode != mode || d.precision != precision) continue;
      if (d.work <= work && (!below || d.work > below->work)) below = &d;
      if (d.work >= work && (!above || d.work < above->work)) above = &d;
    }
    if (!below) return std::nullopt;
    const double scaled = below->seconds * work / below->work;
    return above ? std::min(scaled, above->seconds) : scaled;
  }

  json point(const std::string& job, AttentionMode mode, Precision precision, std::int64_t b, std::int64_t nc,
             std::int64_t nt) {
    const bool sample = job == "sample", reencode = mode == AttentionMode::kReencode;
    json rec = {{"job", job}, {"mode", engine::attention_mode_name(mode)}, {"precision", engine::precision_name(precision)},
                {"b", b},     {"nc", nc},                               {"nt", nt}};
    const bench::Cost cost = sample ? bench::sample_cost(shapes_, b, nc, nt) : bench::density_cost(shapes_, b, nc, nt);
    const double work = reencode ? bench::reencode_flops(shapes_, b, nc, nt) : cost.flops;
    if (reencode) rec["algorithm_flops"] = work;
    const double needs = reencode ? bench::reencode_bytes(shapes_, b, nc, nt)
                                  : (sample ? bench::sample_bytes(shapes_, b, nc, nt) : bench::density_bytes(shapes_, b, nc, nt));
    if (!fits(rec, needs)) return rec;
    std::optional<double> predicted = predict(job, mode, precision, work);
    if (predicted) rec["predicted_s"] = *predicted;
    if (reencode && predicted && *predicted > s_.reencode_cap_s) {
      rec["status"] = "skipped";
      rec["reason"] = fmt::format("reencode time cap: {:.1f} s predicted > {:.1f} s", *predicted, s_.reencode_cap_s);
      fmt::print("{:<8} {:>6} {:>6} {:>5} {:>9} {:>9}  skipped: {}\n", job, b, nc, nt, "reencode", "float32",
                 rec["reason"].get<std::string>());
      return rec;
    }
    // Repeats: a warm-up call and 5 timed (reencode 3) where a call is predicted to take at most
    // 1 s; else 3 up to 4 s (reencode 2 s) and 1 beyond, the process being warm from the smaller
    // points of the same mode.
    const bool warm_up = !predicted || *predicted <= 1.0;
    const double guess = predicted.value_or(0.5);
    const auto repeats_for = [&](double seconds) {
      return seconds <= 1.0 ? (reencode ? 3 : 5) : (seconds <= (reencode ? 2.0 : 4.0) ? 3 : 1);
    };
    int repeats = repeats_for(guess);
    if (!in_budget(rec, guess * (repeats + (warm_up ? 1 : 0)))) {
      fmt::print("{:<8} {:>6} {:>6} {:>5} {:>9} {:>9}  skipped: {}\n", job, b, nc, nt, engine::attention_mode_name(mode),
                 engine::precision_name(precision), rec["reason"].get<std::string>());
      return rec;
    }
    try {
      engine::Session session(model_,
                              options_for(mode, precision, [&rec](const std::string& m) { rec["notices"].push_back(m); }));
      const TaskTensors task = bench::random_task(nc, nt, sample ? 0 : b, sample ? 1 : 2);
      const auto call = [&] {
        if (sample)
          session.sample_sequence(task, b, 7);
        else
          session.evaluate_joint_density(task);
      };
      std::vector<double> event_ms, host_ms;
      const std::size_t live_before = bench::live_device_bytes();
      bench::reset_peak_device_bytes();
      if (warm_up) {  // its time, where there was no prediction, sets the repeats
        const CallTime w = time_call(call);
        rec["warmup_ms"] = w.event_ms;
        if (!predicted) repeats = repeats_for(w.event_ms * 1e-3);
      }
      for (int i = 0; i < repeats; ++i) {
        const CallTime t = time_call(call);
        event_ms.push_back(t.event_ms);
        host_ms.push_back(t.host_ms);
      }
      const double med = median(event_ms);
      rec["status"] = "ok";
      rec["repeats"] = repeats;
      rec["warmup"] = warm_up;
      rec["median_ms"] = med;
      rec["min_ms"] = *std::min_element(event_ms.begin(), event_ms.end());
      rec["max_ms"] = *std::max_element(event_ms.begin(), event_ms.end());
      rec["host_median_ms"] = median(host_ms);
      if (sample) rec["per_step_ms"] = med / double(nt);
      rec["peak_device_bytes"] = bench::allocation_tracking_active() ? double(bench::peak_device_bytes() - live_before) : -1.0;
      rec["floor"] = floor_json(cost, ceil_, med * 1e-3);
      done_.push_back({job, mode, precision, work, med * 1e-3});
      fmt::print("{:<8} {:>6} {:>6} {:>5} {:>9} {:>9} {:>11.3f} {:>7} {:>9.3f} {:>7.2f}% {:>9.3f}\n", job, b, nc, nt,
                 engine::attention_mode_name(mode), engine::precision_name(precision), med, repeats, rec["floor"]["floor_s"].get<double>() * 1e3,
                 100.0 * rec["floor"]["floor_fraction"].get<double>(), rec["peak_device_bytes"].get<double>() / kGiB);
      std::fflush(stdout);
    } catch (const std::exception& e) {
      error(rec, e);
    }
    return rec;
  }

  const Settings& s_;
  const engine::DeviceModel& model_;
  json& out_;
  std::filesystem::path out_path_;
  bench::Shapes shapes_;
  bench::Ceilings ceil_;
  std::vector<Done> done_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

std::string default_weights() {
  if (const char* w = std::getenv("ARTABPFN_WEIGHTS"); w && *w) return w;
  if (const char* f = std::getenv("ARTABPFN_FIXTURES_DIR"); f && *f)
    return (std::filesystem::path(f) / "peer" / "paper_weights.safetensors").string();
  return "fixtures/peer/paper_weights.safetensors";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"e2e_bench: engine calls and decode steps against the hardware floor"};
  std::string weights_path = default_weights(), out_path = "e2e_engine.json", mode = "full";
  double budget_s = -1, reencode_cap_s = -1;
  std::vector<std::string> sections = {"ceilings", "steps", "profiles", "points"};
  std::vector<std::string> precisions = {"float32"};
  app.add_option("--weights", weights_path,
                 "paper-config weights (default: $ARTABPFN_WEIGHTS, else $ARTABPFN_FIXTURES_DIR/peer/"
                 "paper_weights.safetensors, else fixtures/peer/paper_weights.safetensors)");
  app.add_option("--out", out_path, "JSON output file");
  app.add_option("--mode", mode, "full, quick (central points) or smoke (tiny shapes, for the GPU test)")
      ->check(CLI::IsMember({"full", "quick", "smoke"}));
  app.add_option("--budget-s", budget_s, "time budget in seconds (default: full 250, quick 40, smoke 60)");
  app.add_option("--reencode-cap-s", reencode_cap_s, "skip reencode points predicted above this many seconds (default 8)");
  app.add_option("--sections", sections, "sections to run (ceilings always runs)");
  app.add_option("--precisions", precisions, "the engine's precisions to time in steps and points (default float32)")
      ->check(CLI::IsMember(tolerance::kJudgedEnginePrecisions));
  CLI11_PARSE(app, argc, argv);

  if (const std::string reason = kernels::gpu_unavailable_reason(); !reason.empty()) {
    fmt::print(stderr, "e2e_bench: no CUDA GPU: {}\n", reason);
    return 3;
  }
  Settings s = settings_for(mode);
  if (budget_s > 0) s.budget_s = budget_s;
  if (reencode_cap_s > 0) s.reencode_cap_s = reencode_cap_s;
  s.precisions.clear();
  for (const std::string& p : precisions) s.precisions.push_back(engine::parse_precision(p));
  const ModelWeights weights = load_weights(weights_path);
  const engine::DeviceModel model(weights);
  const ModelConfig& c = weights.config;
  json out = {{"schema", "artabpfn.e2e_bench"}, {"schema_version", 2}, {"complete", false}};
  bench::stamp(out);
  out.update(json{{"mode", s.name},
                  {"model",
                   {{"config", c.to_string()},
                    {"d_model", c.d_model},
                    {"n_heads", c.n_heads},
                    {"n_layers", c.n_layers},
                    {"d_ff", c.d_ff},
                    {"num_components", c.num_components},
                    {"weights_file", std::filesystem::path(weights_path).filename().string()},
                    {"weights_sha256", sha256_file_hex(weights_path)},
                    {"device_bytes", model.bytes()}}},
                  {"settings",
                   {{"budget_s", s.budget_s},
                    {"precisions", precisions},
                    {"reencode_cap_s", s.reencode_cap_s},
                    {"center", {{"b", s.center_b}, {"nc", s.center_nc}, {"nt", s.center_nt}}},
                    {"task", "one task, random N(0,1) values, 2 features (bench/engine/random_task.hpp)"},
                    {"timing", "whole synchronised calls (upload, prefill, copies back included), CUDA events on the "
                               "legacy default stream; median of the timed calls"},
                    {"memory", "peak_device_bytes: highest sum of live cudaMalloc bytes during the point's calls "
                               "above what was live before (linker-wrapped cudaMalloc/cudaFree)"}}},
                  {"ceilings", json::object()},
                  {"steps", json::array()},
                  {"profiles", json::array()},
                  {"points", json::array()}});
  fmt::print("{}\nmodel: {}\nmode {}, budget {:.0f} s, reencode cap {:.1f} s\n", bench::stamp_line(),
             c.to_string(), s.name, s.budget_s, s.reencode_cap_s);
  Bench bench(s, weights, model, out, out_path);
  const auto wanted = [&](const char* name) { return std::find(sections.begin(), sections.end(), name) != sections.end(); };
  bench.ceilings();
  if (wanted("steps")) bench.steps();
  if (wanted("profiles")) bench.profiles();
  if (wanted("points")) bench.points();
  out["complete"] = true;
  bench.save();
  fmt::print("\nwrote {} ({:.1f} s)\n", out_path, bench.elapsed_s());
  return 0;
}
