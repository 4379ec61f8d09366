#pragma once
// What CLI11 misreports: an unknown command (it says "A subcommand is required") and an option
// the command does not have (it says first that a required option is missing). Both are found
// before parsing and named, with the nearest valid name.
#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace artabpfn::cli {

// The message for the first unknown command or option in `args` (argv without the program), if any.
std::optional<std::string> unknown_name(const CLI::App& app, const std::vector<std::string>& args);

// The command `args` names, if any.
const CLI::App* named_command(const CLI::App& app, const std::vector<std::string>& args);

// The candidate closest to `name` in edits (insertions, deletions, substitutions, transpositions),
// if it is close enough to be a typo; "" otherwise.
std::string nearest(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace artabpfn::cli
