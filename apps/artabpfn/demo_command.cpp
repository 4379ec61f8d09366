// artabpfn demo: the main job on the bundled default. Scores the bundled paper fixture (4 tasks,
// Nc 37, Nt 45) and draws a few joint samples of its first task on the CUDA engine (float32), or,
// where no GPU is usable, on the double reference (with the one-line notice of every job), and
// reports how far its densities lie from the public PyTorch implementation's float64 values.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>

#include "artabpfn/error.hpp"
#include "artabpfn/safetensors.hpp"
#include "jobs/backend.hpp"
#include "jobs/job.hpp"
#include "command_options.hpp"
#include "commands.hpp"

namespace artabpfn::cli {
namespace {

constexpr const char* kWeights = "paper_weights.safetensors";

// The folder holding the paper fixture: FIXTURES/peer, or FIXTURES itself when it is that folder.
std::filesystem::path peer_folder(const std::string& fixtures) {
  const std::filesystem::path root = fixtures;
  for (const std::filesystem::path& folder : {root / "peer", root})
    if (std::filesystem::is_regular_file(folder / kWeights)) return folder;
  throw InputError(fmt::format("no paper fixture ({}) in '{}' or '{}': pass --fixtures with the project's fixtures "
                               "folder",
                               kWeights, (root / "peer").string(), root.string()));
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto fixtures = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand("demo", "score the bundled paper fixture on the CUDA engine (or the CPU reference)");
  command->add_option("--fixtures", *fixtures,
                      "fixtures folder, or its peer/ folder (default: $ARTABPFN_FIXTURES_DIR or the bundled one)");
  command->callback([fixtures] {
    const auto start = std::chrono::steady_clock::now();
    const std::filesystem::path dir = peer_folder(fixtures_dir(*fixtures));
    JobOptions options;
    options.weights = (dir / kWeights).string();
    options.inputs = (dir / "paper_io.safetensors").string();
    const ModelWeights weights = load_job_weights(options);
    const TaskTensors tensors = load_job_inputs(options, "density");
    const HostTensor<double> peer = safetensors::File::read(options.inputs).to_f64("tf_logpdf");
    const std::int64_t nt_max = peer.dim(peer.shape.size() - 1);
    // "cuda", or the double reference with the notice; the checks of every job
    const jobs::JobResult scored =
        jobs::run_job({jobs::check_combination("density", "cuda", "", ""), 0, 0, options.inputs, {}, {}}, weights, tensors);
    const jobs::Combination& ran = scored.ran;
    const jobs::Table& density = scored.table;
    fmt::print("model: {}\n", weights.config.to_string());
    fmt::print("backend: {} ({})\n", ran.backend, ran.precision);
    fmt::print("{:>4} {:>4} {:>4} {:>22} {:>14}\n", "task", "Nc", "Nt", "joint log density", "max |d peer|");
    for (std::size_t t = 0; t < density.size(); ++t) {
      const std::vector<double>& logpdf = density[t][0];
      double gap = 0, joint = 0;
      for (std::size_t i = 0; i < logpdf.size(); ++i) {
        joint += logpdf[i];
        gap = std::max(gap, std::abs(logpdf[i] - peer.data[t * std::size_t(nt_max) + i]));
      }
      fmt::print("{:>4} {:>4} {:>4} {:>22.15g} {:>14.3e}\n", t, tensors.context_len[t], logpdf.size(), joint, gap);
    }
    const jobs::Table samples =
        jobs::run_job({jobs::check_combination("sample", std::string(ran.backend), "", ""), 4, 1, options.inputs, {}, {}},
                      weights, tensors)
            .table;
    fmt::print("4 joint samples of task 0 (seed 1), first 6 targets:\n");
    for (const std::vector<double>& sample : samples[0]) {
      for (std::size_t t = 0; t < 6 && t < sample.size(); ++t) fmt::print("{:>10.4f}", sample[t]);
      fmt::print("\n");
    }
    fmt::print(stderr, "demo: {} ({}), {:.2f} s\n", ran.backend, ran.precision,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  });
}

}  // namespace artabpfn::cli
