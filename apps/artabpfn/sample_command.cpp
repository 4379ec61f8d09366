// artabpfn sample: S joint samples per task, drawn with the Philox random-stream contract.
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <memory>

#include "artabpfn/random_stream.hpp"
#include "command_options.hpp"
#include "commands.hpp"
#include "job.hpp"
#include "value_checks.hpp"

namespace artabpfn::cli {

void add_sample_command(CLI::App& app) {
  auto spec = std::make_shared<JobSpec>(JobSpec{"sample", {}, 0, 0});
  CLI::App* command = app.add_subcommand("sample", "draw joint samples y_0..y_{Nt-1} per task");
  add_job_options(*command, spec->options, spec->job);
  command->add_option("--samples", spec->samples, "samples per task")
      ->required()
      ->default_str("")  // required: no default to show
      ->check(integer_in(1, jobs::kMaxSamples));
  command->add_option("--seed", spec->seed, "seed of the Philox stream")->required()->default_str("")->check(seed_value());
  command->callback([spec, command] {
    const auto start = std::chrono::steady_clock::now();
    const jobs::JobResult result = run_job(*spec, command_line(*command));
    fmt::print(stderr, "sample: {} task(s) x {} samples, seed {}, stream {}, backend {}, {:.2f} s\n",
               result.table.size(), spec->samples, spec->seed, random_stream::kLayoutName, result.ran.backend,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  });
}

}  // namespace artabpfn::cli
