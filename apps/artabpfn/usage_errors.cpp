#include "usage_errors.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

namespace artabpfn::cli {
namespace {

// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(command->get_name());
  return names;
}

std::vector<std::string> option_names(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::Option* option : command.get_options()) {
    for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
    for (const std::string& name : option->get_snames()) names.push_back("-" + name);
  }
  return names;
}

std::string suggestion(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string close = nearest(name, candidates);
  return close.empty() ? "" : fmt::format(" (did you mean '{}'?)", close);
}

// "--name=value" -> "--name"; "-x" -> "-x"; a value such as "-1" or "-.5" -> "".
std::string option_token(const std::string& arg) {
  if (arg.size() > 2 && arg.starts_with("--")) return arg.substr(0, arg.find('='));
  if (arg.size() >= 2 && arg[0] == '-' && arg[1] != '-' && std::isalpha(static_cast<unsigned char>(arg[1])))
    return arg.substr(0, 2);
  return {};
}

}  // namespace

std::string nearest(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = 0;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(name, candidate);
    if (best.empty() || distance < best_distance) best = candidate, best_distance = distance;
  }
  // A typo changes a few characters; farther names are not suggested.
  return best_distance <= std::max<std::size_t>(2, name.size() / 3) ? best : "";
}

const CLI::App* named_command(const CLI::App& app, const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg.starts_with('-')) continue;
    for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; }))
      if (command->get_name() == arg) return command;
    return nullptr;
  }
  return nullptr;
}

std::optional<std::string> unknown_name(const CLI::App& app, const std::vector<std::string>& args) {
  const CLI::App* command = nullptr;
  for (const std::string& arg : args) {
    if (arg == "--") break;  // what follows is positional
    const std::string option = option_token(arg);
    if (!command && option.empty()) {  // the command's name
      command = named_command(app, {arg});
      if (!command)
        return fmt::format("unknown command '{}'{}; the commands are: {}", arg, suggestion(arg, command_names(app)),
                           fmt::join(command_names(app), ", "));
      continue;
    }
    if (option.empty()) continue;
    const CLI::App& owner = command ? *command : app;
    if (owner.get_option_no_throw(option) == nullptr)
      return command ? fmt::format("unknown option '{}' for '{}'{}", option, command->get_name(),
                                   suggestion(option, option_names(*command)))
                     : fmt::format("unknown option '{}'{}", option, suggestion(option, option_names(app)));
  }
  return std::nullopt;
}

}  // namespace artabpfn::cli
