// artabpfn vectors: writes a conformance vector set (docs/conformance_vectors.md) that any
// implementation can be checked against with `artabpfn check`.
#include <fmt/format.h>

#include <memory>

#include "commands.hpp"
#include "conformance/vectors.hpp"
#include "output_file.hpp"
#include "value_checks.hpp"

namespace artabpfn::cli {

void add_vectors_command(CLI::App& app) {
  struct Options {
    std::string out;
    bool quick = false, full = false, verbose = false;
    std::uint64_t seed = conformance::kDefaultSeed;
    std::vector<std::string> cases;
  };
  auto o = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(
      "vectors", "write conformance vectors: inputs, double-reference outputs and frozen tolerances per case and precision");
  command->add_option("--out", o->out, "output directory (created)")->required();
  CLI::Option* quick = command->add_flag("--quick", o->quick, "the quick set (the default; a few MB, what CI runs)");
  CLI::Option* full = command->add_flag("--full", o->full, "the full set (more batch sizes, head dims, the paper model)");
  quick->excludes(full);
  command->add_option("--seed", o->seed, "seed of the set (each case's seed derives from it and the case name)")
      ->check(seed_value());
  command->add_option("--case", o->cases, "write only this case (repeatable); the index then lists only these");
  command->add_flag("--verbose", o->verbose, "print each case as it is written");
  command->callback([o] {
    prepare_output_folder(o->out, "--out");
    conformance::VectorOptions options;
    options.set = o->full ? "full" : "quick";
    options.seed = o->seed;
    options.cases = o->cases;
    if (o->verbose) options.progress = [](const std::string& name) { fmt::print("  {}\n", name); };
    const conformance::VectorSummary s = conformance::write_vectors(o->out, options);
    fmt::print("vectors: {} set, seed {}: {} cases, {:.2f} MB in {} ({:.1f} s)\n", options.set, options.seed, s.cases,
               double(s.bytes) / 1e6, o->out, s.seconds);
  });
}

}  // namespace artabpfn::cli
