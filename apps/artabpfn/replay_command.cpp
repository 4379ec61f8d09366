// artabpfn replay MANIFEST: runs a recorded `density` or `sample` job again (after checking that
// its weights and inputs still have the recorded checksums) and reports whether the output is
// bit for bit the same. Exit status 0: identical; 1: different (the largest difference is shown).
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "artabpfn/sha256.hpp"
#include "commands.hpp"
#include "manifest.hpp"

namespace artabpfn::cli {
namespace {

std::vector<double> csv_numbers(const std::string& path) {
  std::ifstream in(path);
  std::string line, cell;
  std::vector<double> values;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream cells(line);
    for (int column = 0; std::getline(cells, cell, ','); ++column)
      if (column >= 2 && !cell.empty()) values.push_back(std::stod(cell));
  }
  return values;
}

}  // namespace

void add_replay_command(CLI::App& app) {
  auto manifest = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand("replay", "rerun a recorded job from its manifest and compare bit for bit");
  command->add_option("manifest", *manifest, "OUT.manifest.json written by density or sample")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--out", *output, "where to write the new output (default: next to the manifest, .replay)");
  command->callback([manifest, output] {
    std::string recorded_sha, recorded_environment;
    const std::string original = manifest->substr(0, manifest->size() - std::string(".manifest.json").size());
    const std::string target = output->empty() ? original + ".replay" + std::filesystem::path(original).extension().string()
                                               : *output;
    const JobSpec spec = read_manifest(*manifest, target, recorded_sha, recorded_environment);
    const JobResult result = run_job(spec);
    const std::string environment = environment_description(result.backend);
    if (environment != recorded_environment)
      fmt::print(stderr, "replay: environment differs (bitwise equality is promised only for the same GPU model and "
                         "software)\n  recorded: {}\n  now:      {}\n", recorded_environment, environment);
    const std::string sha = sha256_file_hex(target);
    if (sha == recorded_sha) {
      fmt::print("replay: identical: {} reproduces {} bit for bit (sha256 {})\n", target, original, sha);
      return;
    }
    std::string detail;
    if (target.ends_with(".csv") && std::filesystem::exists(original)) {
      const auto a = csv_numbers(original), b = csv_numbers(target);
      double worst = 0;
      std::size_t differing = 0;
      for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        if (a[i] != b[i]) ++differing, worst = std::max(worst, std::abs(a[i] - b[i]));
      detail = fmt::format(": {} of {} values differ, largest difference {:.3e}", differing, a.size(), worst);
    }
    fmt::print("replay: DIFFERENT: {} (sha256 {}) does not reproduce the recorded output (sha256 {}){}\n", target, sha,
               recorded_sha, detail);
    throw CLI::RuntimeError(1);
  });
}

}  // namespace artabpfn::cli
