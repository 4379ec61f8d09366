// artabpfn demo: the main job on the bundled default. Scores the bundled paper fixture (4 tasks,
// Nc 37, Nt 45) and draws a few joint samples of its first task on the CUDA engine (float32), or,
// where no GPU is usable, on the double reference (with the one-line notice of every job), and
// reports how far its densities lie from the public PyTorch implementation's float64 values.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <memory>

#include "artabpfn/safetensors.hpp"
#include "artabpfn/weights_loader.hpp"
#include "backend.hpp"
#include "command_options.hpp"
#include "commands.hpp"
#include "job.hpp"

namespace artabpfn::cli {

void add_demo_command(CLI::App& app) {
  auto fixtures = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand("demo", "score the bundled paper fixture on the CUDA engine (or the CPU reference)");
  command->add_option("--fixtures", *fixtures, "fixtures folder (default: $ARTABPFN_FIXTURES_DIR or the bundled one)");
  command->callback([fixtures] {
    const auto start = std::chrono::steady_clock::now();
    const std::string dir = fixtures_dir(*fixtures) + "/peer/";
    JobOptions options;
    options.weights = dir + "paper_weights.safetensors";
    options.inputs = dir + "paper_io.safetensors";
    options.backend = resolve_backend(options);  // "cuda", or "reference" with the notice
    const ModelWeights weights = load_job_weights(options);
    const TaskTensors tensors = load_job_inputs(options);
    const HostTensor<double> peer = safetensors::File::read(options.inputs).to_f64("tf_logpdf");
    const std::int64_t nt_max = peer.dim(peer.shape.size() - 1);
    const Table density = run_density(options, weights, tensors);
    fmt::print("model: {}\n", weights.config.to_string());
    fmt::print("backend: {} ({})\n", options.backend, precision_of(options.backend));
    fmt::print("{:>4} {:>4} {:>4} {:>22} {:>14}\n", "task", "Nc", "Nt", "joint log density", "max |d peer|");
    for (std::size_t t = 0; t < density.size(); ++t) {
      const std::vector<double>& logpdf = density[t][0];
      double gap = 0, joint = 0;
      for (std::size_t i = 0; i < logpdf.size(); ++i) {
        joint += logpdf[i];
        gap = std::max(gap, std::abs(logpdf[i] - peer.data[t * std::size_t(nt_max) + i]));
      }
      fmt::print("{:>4} {:>4} {:>4} {:>22.12f} {:>14.3e}\n", t, tensors.context_len[t], logpdf.size(), joint, gap);
    }
    const Table samples = run_samples(options, weights, tensors, 4, 1);
    fmt::print("4 joint samples of task 0 (seed 1), first 6 targets:\n");
    for (const std::vector<double>& sample : samples[0]) {
      for (std::size_t t = 0; t < 6 && t < sample.size(); ++t) fmt::print("{:>10.4f}", sample[t]);
      fmt::print("\n");
    }
    fmt::print(stderr, "demo: {} ({}), {:.2f} s\n", options.backend, precision_of(options.backend),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  });
}

}  // namespace artabpfn::cli
