// artabpfn density: per-target log densities log p(y_t | context, y_<t) by teacher forcing.
#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "command_options.hpp"
#include "commands.hpp"
#include "job.hpp"

namespace artabpfn::cli {

void add_density_command(CLI::App& app) {
  auto spec = std::make_shared<JobSpec>(JobSpec{"density", {}, 0, 0});
  CLI::App* command = app.add_subcommand("density", "score y_target: per-target log densities (teacher forcing)");
  add_job_options(*command, spec->options, spec->job);
  command->callback([spec, command] {
    const auto start = std::chrono::steady_clock::now();
    const jobs::JobResult result = run_job(*spec, command_line(*command));
    for (std::size_t t = 0; t < result.table.size(); ++t)
      for (std::size_t r = 0; r < result.table[t].size(); ++r) {
        double joint = 0;
        for (double v : result.table[t][r]) joint += v;
        // 15 significant digits: a value far outside the mixture prints as -1.15e+301 or -inf, not 300 digits.
        fmt::print(stderr, "task {} set {}: {} targets, joint log density {:.15g}\n", t, r, result.table[t][r].size(),
                   joint);
      }
    fmt::print(stderr, "density: {} task(s), backend {}, {:.2f} s\n", result.table.size(), result.ran.backend,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  });
}

}  // namespace artabpfn::cli
