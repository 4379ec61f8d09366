// artabpfn check: compares another implementation's results with conformance vectors, case by
// case, with the tolerances the vectors' index froze for one precision (--precision, float32 by
// default); table on stdout, report.json and junit.xml with --report-dir; exit status 1 on any
// failing or missing case.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "conformance/check.hpp"
#include "tolerance/precision.hpp"
#include "output_file.hpp"

namespace artabpfn::cli {

void add_check_command(CLI::App& app) {
  struct Options {
    std::string vectors, results, report_dir, contracts, precision = "float32";
    std::vector<std::string> cases;
    bool allow_skipped = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(
      "check", "check another implementation's results (same file names, output tensors only) against conformance vectors");
  command->add_option("vectors", o->vectors, "conformance vectors directory (from `artabpfn vectors`)")
      ->required()
      ->check(CLI::ExistingDirectory);
  command->add_option("--results", o->results, "results directory of the implementation under test")
      ->required()
      ->check(CLI::ExistingDirectory);
  command->add_option("--report-dir", o->report_dir, "write report.json and junit.xml here");
  command->add_option("--contracts", o->contracts, "check only these contracts (comma-separated)");
  command->add_option("--case", o->cases, "check only this case (repeatable)");
  std::vector<std::string> precisions;
  for (tolerance::Precision p : tolerance::kPrecisions) precisions.emplace_back(tolerance::precision_name(p));
  command
      ->add_option("--precision", o->precision,
                   "the precision the implementation computes in, whose frozen limits judge it (docs/precisions.md); "
                   "cases that do not serve it are reported as not applicable")
      ->check(CLI::IsMember(precisions))
      ->capture_default_str();
  command->add_flag("--allow-skipped", o->allow_skipped,
                    "report the cases listed in RESULTS/skipped.txt (declined by the adapter) as skipped, not missing");
  command->callback([o] {
    if (!o->report_dir.empty()) prepare_output_folder(o->report_dir, "--report-dir");
    conformance::CheckOptions options;
    options.vectors = o->vectors;
    options.results = o->results;
    options.cases = o->cases;
    options.allow_skipped = o->allow_skipped;
    options.precision = *tolerance::parse_precision(o->precision);
    std::stringstream list(o->contracts);
    for (std::string item; std::getline(list, item, ',');)
      if (!item.empty()) options.contracts.push_back(item);
    const conformance::CheckReport report = conformance::run_check(options);
    conformance::print_table(report, stdout);
    if (!o->report_dir.empty()) {
      conformance::write_report_json(report, std::filesystem::path(o->report_dir) / "report.json");
      conformance::write_junit(report, std::filesystem::path(o->report_dir) / "junit.xml");
      fmt::print("reports: {}/report.json, {}/junit.xml\n", o->report_dir, o->report_dir);
    }
    std::fflush(stdout);
    if (!report.ok()) throw CLI::RuntimeError(1);
  });
}

}  // namespace artabpfn::cli
