// End-to-end engine calls on the paper configuration (weights from a file, random task values):
// sample_sequence and evaluate_joint_density, one factor at a time around B 256, Nc 256, Nt 64;
// the density also in mixed precision (SessionOptions::precision, row mode "mixed"). --precision
// runs the calls in another of the engine's precisions (then without the reencode baseline and
// the mixed rows, which are float32's).
// Each point: median of --repeats synchronised calls after one warm-up call. A call includes
// uploading the task, the prefill and copying results back; the per-step figure divides the
// sampling call by Nt, so it is an upper bound of one decode step's time.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "artabpfn/median.hpp"
#include "artabpfn/weights_loader.hpp"
#include "bench/engine/random_task.hpp"
#include "bench/stamp/stamp.hpp"
#include "engine/session.hpp"
#include "tolerance/precision.hpp"

namespace {

using namespace artabpfn;

template <class F>
double median_ms(int repeats, F&& f) {
  f();  // warm-up
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  return median(ms);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"engine_bench: end-to-end engine calls"};
  std::string weights_path;
  int repeats = 5;
  bool quick = false, large = false;
  std::string precision_name = "float32";
  app.add_option("--weights", weights_path, "paper-config weights (e.g. fixtures/peer/paper_weights.safetensors)")->required();
  app.add_option("--repeats", repeats, "timed calls per point");
  app.add_flag("--quick", quick, "only the central points");
  app.add_flag("--large", large, "add B 65536 (sampling, one timed call)");
  app.add_option("--precision", precision_name, "the engine's precision (SessionOptions::precision)")
      ->check(CLI::IsMember(tolerance::kJudgedEnginePrecisions));
  CLI11_PARSE(app, argc, argv);
  const engine::Precision precision = engine::parse_precision(precision_name);
  const bool float32 = precision == engine::Precision::kFloat32;
  const ModelWeights weights = load_weights(weights_path);
  const engine::DeviceModel model(weights);
  fmt::print("{}\nmodel: {}, precision {}\n", bench::stamp_line(), weights.config.to_string(), precision_name);
  fmt::print("{:<8} {:>6} {:>6} {:>6} {:>9} {:>12} {:>14}\n", "job", "B", "Nc", "Nt", "mode", "call ms", "per step ms");
  struct Point { std::int64_t b, nc, nt; };
  std::vector<Point> points = {{256, 256, 64}};
  if (!quick)
    for (std::int64_t b : {1, 16, 1024, 4096}) points.push_back({b, 256, 64});
  if (large) points.push_back({65536, 256, 64});
  for (const Point& p : points)
    for (const auto mode : {engine::AttentionMode::kFused, engine::AttentionMode::kSplit, engine::AttentionMode::kReencode}) {
      // The reencode baseline is quadratic in Nt: timed once, and only up to B 256.
      if (mode == engine::AttentionMode::kReencode && (p.b > 256 || !float32)) continue;
      engine::SessionOptions options{mode, 0, [](const std::string&) {}};
      options.precision = precision;
      engine::Session session(model, options);
      const TaskTensors sampling = bench::random_task(p.nc, p.nt, 1, 1);
      const int reps = p.b >= 65536 || mode == engine::AttentionMode::kReencode ? 1 : repeats;
      const double sample_ms = median_ms(reps, [&] { session.sample_sequence(sampling, p.b, 7); });
      fmt::print("{:<8} {:>6} {:>6} {:>6} {:>9} {:>12.3f} {:>14.4f}\n", "sample", p.b, p.nc, p.nt,
                 engine::attention_mode_name(mode), sample_ms, sample_ms / double(p.nt));
      if (p.b >= 65536) continue;
      const TaskTensors density = bench::random_task(p.nc, p.nt, p.b, 2);
      const double density_ms = median_ms(reps, [&] { session.evaluate_joint_density(density); });
      fmt::print("{:<8} {:>6} {:>6} {:>6} {:>9} {:>12.3f} {:>14}\n", "density", p.b, p.nc, p.nt,
                 engine::attention_mode_name(mode), density_ms, "-");
    }
  for (const Point& p : points) {
    if (p.b >= 65536 || !float32) continue;
    engine::SessionOptions options{engine::AttentionMode::kFused, 0, [](const std::string&) {}};
    options.precision = engine::Precision::kMixed;
    engine::Session session(model, options);
    const TaskTensors density = bench::random_task(p.nc, p.nt, p.b, 2);
    const double density_ms = median_ms(repeats, [&] { session.evaluate_joint_density(density); });
    fmt::print("{:<8} {:>6} {:>6} {:>6} {:>9} {:>12.3f} {:>14}\n", "density", p.b, p.nc, p.nt, "mixed", density_ms, "-");
  }
  return 0;
}
