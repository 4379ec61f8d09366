#pragma once
// Each subcommand registers itself on the application.
#include <CLI/CLI.hpp>

#include <string>

namespace artabpfn::cli {

void add_demo_command(CLI::App& app);
void add_density_command(CLI::App& app);
void add_sample_command(CLI::App& app);
void add_vectors_command(CLI::App& app);  // conformance vectors (conformance/)
void add_check_command(CLI::App& app);    // check results against them
void add_replay_command(CLI::App& app);
void add_verify_command(CLI::App& app);  // the verification report (verify/)

// The command as typed, for manifests.
std::string command_line(const CLI::App& command);

}  // namespace artabpfn::cli
