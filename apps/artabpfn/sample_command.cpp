// artabpfn sample: S joint samples per task, drawn with the Philox random-stream contract.
#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "artabpfn/random_stream.hpp"
#include "command_options.hpp"
#include "commands.hpp"
#include "backend.hpp"
#include "result_writers.hpp"

namespace artabpfn::cli {

void add_sample_command(CLI::App& app) {
  struct Options : JobOptions {
    std::int64_t samples = 0;
    std::uint64_t seed = 0;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand("sample", "draw joint samples y_0..y_{Nt-1} per task");
  add_job_options(*command, *options);
  command->add_option("--samples", options->samples, "samples per task")->required()->check(CLI::PositiveNumber);
  command->add_option("--seed", options->seed, "64-bit seed of the Philox stream")->required();
  command->callback([options] {
    const auto start = std::chrono::steady_clock::now();
    JobOptions resolved = *options;
    resolved.backend = resolve_backend(*options);
    const ModelWeights weights = load_job_weights(*options);
    const TaskTensors tasks = load_job_inputs(*options);
    const Table table = run_samples(resolved, weights, tasks, options->samples, options->seed);
    write_table(table, {"sample", "y_", "samples"}, options->out);
    fmt::print(stderr, "sample: {} task(s) x {} samples, seed {}, stream {}, backend {}, {:.2f} s\n", table.size(),
               options->samples, options->seed, random_stream::kLayoutName, resolved.backend,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  });
}

}  // namespace artabpfn::cli
