#pragma once
// Checking another implementation's results against conformance vectors (artabpfn check).
//
// Results are judged in one precision (tolerance/precision.hpp; float32 unless asked). For each
// case of the index that serves it (optionally only some contracts or cases), reads
// RESULTS/<case file>, and compares each output tensor with "expected.<output>":
//   - the shape must be the same;
//   - elements whose expected value is NaN (I64: -1) are not compared (padding, or a sampler
//     draw whose uniform lies within rounding of a component boundary);
//   - an infinite expected value must be matched exactly; NaN in a result never passes;
//   - float outputs: max |result - expected| <= the precision's frozen limit in the index;
//   - integer outputs: equal.
// A case passes when every output passes; a missing file or tensor fails it. A case that does
// not serve the precision is "not applicable": neither checked nor a failure.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "conformance/format.hpp"
#include "tolerance/precision.hpp"

namespace artabpfn::conformance {

struct OutputCheck {
  std::string output;
  bool ok = true;
  std::string problem;  // empty when ok
  double max_error = 0.0;  // NaN when a result element is NaN, infinite for an unmatched infinity
  double p99_error = 0.0;  // 99th percentile (nearest rank) of |result - expected| over finite compared elements
  double limit = 0.0;
  double plain_error = 0.0;  // of the plain implementation in the precision checked
  std::int64_t compared = 0;
  std::int64_t nonfinite_mismatches = 0;
  std::int64_t worst_index = -1;            // flat index of the worst element
  std::vector<std::int64_t> worst_position;  // its multi-index
  double worst_expected = 0.0, worst_got = 0.0;
  std::vector<float> errors;  // every finite |result - expected|, only with CheckOptions::keep_errors
};

struct CaseCheck {
  std::string name, contract, file;
  std::string status;   // "pass", "fail", "missing" (no result file), "error" (unreadable),
                        // "skipped" (declined by the adapter, with --allow-skipped),
                        // "not applicable" (the case does not serve the precision checked)
  std::string message;  // first problem, for the table
  std::vector<OutputCheck> outputs;
  std::string reproduce;   // command that checks this case alone
  std::string regenerate;  // command that writes this case's vector again
  double seconds = 0.0;
};

struct CheckOptions {
  std::filesystem::path vectors, results;
  std::vector<std::string> contracts;  // empty: all
  std::vector<std::string> cases;      // empty: all
  tolerance::Precision precision = tolerance::Precision::kFloat32;  // whose frozen limits judge
  std::string program = "artabpfn";    // how the reproduce commands call the CLI
  bool allow_skipped = false;          // RESULTS/skipped.txt cases without a result: "skipped"
  bool keep_errors = false;            // fill OutputCheck::errors (for pooled percentiles)
};

struct CheckReport {
  std::string vectors, results, set, generator;
  std::uint64_t seed = 0;
  tolerance::Precision precision = tolerance::Precision::kFloat32;
  std::vector<CaseCheck> cases;
  std::int64_t passed = 0, failed = 0, missing = 0, skipped = 0, not_applicable = 0;
  bool ok() const { return failed == 0 && missing == 0 && passed > 0; }
};

CheckReport run_check(const CheckOptions& options);
// Compares one case in `precision` (exposed for tests).
CaseCheck check_case(const CaseSpec& spec, const CaseFile& vectors, const ResultFile& results,
                     tolerance::Precision precision = tolerance::Precision::kFloat32, bool keep_errors = false);
// Whether a case status counts against the check: "fail", "missing", "error".
bool is_failure(const std::string& status);
inline constexpr const char* kNotApplicable = "not applicable";

// Errors where NaN means a NaN result: the larger of two errors, NaN if either is; the error / limit
// ratio (NaN for a NaN error); whether a ratio is worse than another (NaN is the worst); an error
// as the tables print it ("NaN", else 3 significant digits).
double worse_error(double a, double b);
bool is_worse_ratio(double ratio, double than);
std::string error_text(double error);

// Human-readable table, one line per case, failures with their worst element.
void print_table(const CheckReport& report, std::FILE* out);
// report.json (schema artabpfn-conformance-report, version kReportSchemaVersion) and junit.xml.
void write_report_json(const CheckReport& report, const std::filesystem::path& path);
void write_junit(const CheckReport& report, const std::filesystem::path& path);

// Text made safe for an XML attribute or element (the five entities; other control characters
// but newline and tab become spaces). Shared with the verification report's JUnit writer.
std::string xml_escape(const std::string& s);

}  // namespace artabpfn::conformance
