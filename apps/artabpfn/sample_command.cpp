// artabpfn sample: S joint samples per task, drawn with the Philox random-stream contract.
#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "artabpfn/random_stream.hpp"
#include "command_options.hpp"
#include "commands.hpp"
#include "job.hpp"
#include "manifest.hpp"

namespace artabpfn::cli {

void add_sample_command(CLI::App& app) {
  auto spec = std::make_shared<JobSpec>(JobSpec{"sample", {}, 0, 0});
  CLI::App* command = app.add_subcommand("sample", "draw joint samples y_0..y_{Nt-1} per task");
  add_job_options(*command, spec->options);
  command->add_option("--samples", spec->samples, "samples per task")->required()->check(CLI::PositiveNumber);
  command->add_option("--seed", spec->seed, "64-bit seed of the Philox stream")->required();
  command->callback([spec, command] {
    const auto start = std::chrono::steady_clock::now();
    const JobResult result = run_job(*spec);
    if (!spec->options.out.empty()) write_manifest(*spec, result, command_line(*command));
    fmt::print(stderr, "sample: {} task(s) x {} samples, seed {}, stream {}, backend {}, {:.2f} s\n",
               result.table.size(), spec->samples, spec->seed, random_stream::kLayoutName, result.backend,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  });
}

}  // namespace artabpfn::cli
