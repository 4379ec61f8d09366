#pragma once
// Each subcommand registers itself on the application.
#include <CLI/CLI.hpp>

namespace artabpfn::cli {

void add_demo_command(CLI::App& app);
void add_density_command(CLI::App& app);
void add_sample_command(CLI::App& app);

}  // namespace artabpfn::cli
