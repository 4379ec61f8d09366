// artabpfn replay MANIFEST: reruns a recorded `density` or `sample` job (after checking that its
// weights and inputs still have the recorded checksums) and compares the rerun with the recorded
// output file, the one the manifest names: its bytes (SHA-256) and, where they differ, its values.
// Exit status 0: the recorded output is there, unchanged, and the rerun reproduces it bit for bit;
// 1: it is missing or edited, or the rerun differs (the differences are named); 2: bad input.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <span>

#include "artabpfn/error.hpp"
#include "artabpfn/sha256.hpp"
#include "commands.hpp"
#include "manifest.hpp"

namespace artabpfn::cli {
namespace {

// How two result tables differ, value by value (NaN padding equals NaN).
std::string table_difference(const Table& recorded, const Table& rerun, const TableLayout& layout) {
  std::size_t values = 0, differing = 0;
  double largest = 0;
  std::string first;
  for (std::size_t t = 0; t < std::max(recorded.size(), rerun.size()); ++t) {
    if (t >= recorded.size() || t >= rerun.size() || recorded[t].size() != rerun[t].size())
      return fmt::format("task {}: {} {}s recorded, {} in the rerun", t, t < recorded.size() ? recorded[t].size() : 0,
                         layout.row_label, t < rerun.size() ? rerun[t].size() : 0);
    for (std::size_t r = 0; r < recorded[t].size(); ++r) {
      const std::vector<double>&a = recorded[t][r], &b = rerun[t][r];
      if (a.size() != b.size())
        return fmt::format("task {}, {} {}: {} values recorded, {} in the rerun", t, layout.row_label, r, a.size(), b.size());
      for (std::size_t i = 0; i < a.size(); ++i) {
        ++values;
        if (a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))) continue;
        ++differing;
        const double gap = std::abs(a[i] - b[i]);
        largest = std::isnan(gap) ? gap : std::max(largest, gap);
        if (first.empty())
          first = fmt::format("first at task {}, {} {}, target {}: recorded {:.17g}, rerun {:.17g}", t,
                              layout.row_label, r, i, a[i], b[i]);
      }
    }
  }
  if (differing == 0) return fmt::format("all {} values are equal (the bytes differ)", values);
  return fmt::format("{} of {} values differ, largest difference {:.3e}; {}", differing, values, largest, first);
}

}  // namespace

void add_replay_command(CLI::App& app) {
  auto manifest = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "replay", "rerun a recorded job from its manifest and compare with the recorded output, bit for bit");
  command->add_option("manifest", *manifest, "OUT.manifest.json written by density or sample")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--out", *output,
                      "also write the rerun's output here (FILE.csv or FILE.safetensors; default: compared in memory "
                      "only)");
  command->footer(
      "Exit status: 0 when the recorded output (the file the manifest names) is there, unchanged, and the rerun "
      "reproduces it bit for bit; 1 when it is missing or was edited, or the rerun differs; 2 for bad input (a "
      "malformed manifest, weights or inputs that changed since the run).");
  command->callback([manifest, output] {
    RecordedJob recorded = read_manifest(*manifest);
    const jobs::Combination asked = check_job(recorded.spec);
    const TableLayout layout = layout_of(recorded.spec.job);
    const OutputFormat recorded_format = output_format(recorded.output, "the manifest's output");
    OutputFormat rerun_format = recorded_format;
    std::unique_ptr<OutputFile> rerun_file;  // created now: an unwritable --out fails before the rerun
    if (!output->empty()) {
      rerun_format = output_format(*output, "--out");
      std::vector<std::string> protected_files = job_input_paths(recorded.spec.options);
      protected_files.push_back(recorded.output);
      refuse_overwriting_inputs(*output, protected_files, "--out");
      rerun_file = std::make_unique<OutputFile>(*output);
    }
    const jobs::JobResult result = compute_job(recorded.spec, asked);
    const std::string environment = environment_description(std::string(result.ran.backend));
    if (environment != recorded.environment)
      fmt::print(stderr, "replay: environment differs (bitwise equality is promised only for the same GPU model and "
                         "software)\n  recorded: {}\n  now:      {}\n", recorded.environment, environment);
    if (rerun_file) {
      write_table(result.table, layout, rerun_format, *rerun_file);
      rerun_file->commit();
    }
    const std::string bytes = table_bytes(result.table, layout, recorded_format);
    const std::string rerun_sha = sha256_hex(std::as_bytes(std::span(bytes.data(), bytes.size())));

    std::error_code error;
    if (!std::filesystem::is_regular_file(recorded.output, error)) {
      fmt::print("replay: DIFFERENT: the recorded output '{}' is missing (the rerun's sha256 is {})\n", recorded.output,
                 rerun_sha);
      throw CLI::RuntimeError(1);
    }
    const std::string disk_sha = sha256_file_hex(recorded.output);
    if (disk_sha == recorded.output_sha256 && rerun_sha == disk_sha) {
      fmt::print("replay: identical: the rerun reproduces '{}' bit for bit (sha256 {})\n", recorded.output, disk_sha);
      return;
    }
    std::string what;
    if (disk_sha != recorded.output_sha256)
      what = fmt::format("the recorded output '{}' changed since the run (sha256 {} where the manifest records {})",
                         recorded.output, disk_sha, recorded.output_sha256);
    else
      what = fmt::format("the rerun (sha256 {}) does not reproduce the recorded output '{}' (sha256 {})", rerun_sha,
                         recorded.output, disk_sha);
    std::string values;
    try {
      values = table_difference(read_table(recorded.output, layout, recorded_format), result.table, layout);
    } catch (const InputError& e) {
      values = fmt::format("its values cannot be read: {}", e.what());
    }
    fmt::print("replay: DIFFERENT: {}: {}\n", what, values);
    throw CLI::RuntimeError(1);
  });
}

}  // namespace artabpfn::cli
