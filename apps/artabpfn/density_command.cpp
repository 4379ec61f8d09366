// artabpfn density: per-target log densities log p(y_t | context, y_<t) by teacher forcing.
#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "command_options.hpp"
#include "commands.hpp"
#include "backend.hpp"
#include "result_writers.hpp"

namespace artabpfn::cli {

void add_density_command(CLI::App& app) {
  auto options = std::make_shared<JobOptions>();
  CLI::App* command = app.add_subcommand("density", "score y_target: per-target log densities (teacher forcing)");
  add_job_options(*command, *options);
  command->callback([options] {
    const auto start = std::chrono::steady_clock::now();
    JobOptions resolved = *options;
    resolved.backend = resolve_backend(*options);
    const ModelWeights weights = load_job_weights(*options);
    const TaskTensors tasks = load_job_inputs(*options);
    const Table table = run_density(resolved, weights, tasks);
    write_table(table, {"set", "logp_", "logpdf"}, options->out);
    for (std::size_t t = 0; t < table.size(); ++t)
      for (std::size_t r = 0; r < table[t].size(); ++r) {
        double joint = 0;
        for (double v : table[t][r]) joint += v;
        fmt::print(stderr, "task {} set {}: {} targets, joint log density {:.10f}\n", t, r, table[t][r].size(), joint);
      }
    fmt::print(stderr, "density: {} task(s), backend {}, {:.2f} s\n", table.size(), resolved.backend,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  });
}

}  // namespace artabpfn::cli
