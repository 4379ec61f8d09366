// artabpfn demo: the main job on the bundled default. The reference scores the bundled paper
// fixture (4 tasks, Nc 37, Nt 45) and draws a few joint samples of its first task, and reports
// how far its densities lie from the public PyTorch implementation's float64 values.
#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "artabpfn/safetensors.hpp"
#include "artabpfn/weights_loader.hpp"
#include "command_options.hpp"
#include "commands.hpp"
#include "reference/reference.hpp"
#include "reference/task_batch.hpp"

namespace artabpfn::cli {

void add_demo_command(CLI::App& app) {
  auto fixtures = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand("demo", "score the bundled paper fixture with the reference");
  command->add_option("--fixtures", *fixtures, "fixtures folder (default: $ARTABPFN_FIXTURES_DIR or the bundled one)");
  command->callback([fixtures] {
    const auto start = std::chrono::steady_clock::now();
    const std::string dir = fixtures_dir(*fixtures) + "/peer/";
    const ModelWeights weights = load_weights(dir + "paper_weights.safetensors");
    const TaskTensors tensors = load_task_tensors(dir + "paper_io.safetensors");
    const auto params = reference::ModelParams<double>::from_weights(weights);
    const auto tasks = reference::split_tasks(tensors);
    const auto y = reference::split_target_values(tensors);
    const HostTensor<double> peer = safetensors::File::read(dir + "paper_io.safetensors").to_f64("tf_logpdf");
    fmt::print("model: {}\n", weights.config.to_string());
    fmt::print("{:>4} {:>4} {:>4} {:>22} {:>14}\n", "task", "Nc", "Nt", "joint log density", "max |d peer|");
    for (std::size_t t = 0; t < tasks.size(); ++t) {
      const auto logpdf = reference::teacher_forcing(params, tasks[t], y[t].row(0).transpose()).logpdf;
      double gap = 0;
      for (Eigen::Index i = 0; i < logpdf.size(); ++i)
        gap = std::max(gap, std::abs(logpdf(i) - peer.data[t * std::size_t(logpdf.size()) + std::size_t(i)]));
      fmt::print("{:>4} {:>4} {:>4} {:>22.12f} {:>14.3e}\n", t, tasks[t].context_size(), tasks[t].target_count(),
                 logpdf.sum(), gap);
    }
    const auto samples = reference::sample_sequence(params, tasks[0], 4, {.seed = 1});
    fmt::print("4 joint samples of task 0 (seed 1), first 6 targets:\n");
    for (Eigen::Index s = 0; s < samples.rows(); ++s) {
      for (Eigen::Index t = 0; t < 6; ++t) fmt::print("{:>10.4f}", samples(s, t));
      fmt::print("\n");
    }
    fmt::print(stderr, "demo: reference (double), {:.2f} s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  });
}

}  // namespace artabpfn::cli
