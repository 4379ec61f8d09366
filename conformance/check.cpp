#include "conformance/check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <utility>

#include "artabpfn/error.hpp"
#include "tolerance/quantile.hpp"
#include "tolerance/rule.hpp"

namespace artabpfn::conformance {
namespace {

// "[2,0,1]": a multi-index as the check report writes it (no spaces, unlike shape_to_string).
std::string position_text(const std::vector<std::int64_t>& pos) {
  std::string s = "[";
  for (std::size_t i = 0; i < pos.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(pos[i]);
  }
  return s + "]";
}

OutputCheck compare_output(const OutputSpec& spec, const Tolerance& tolerance, const Tensor& expected, const Tensor* got,
                           bool keep_errors) {
  OutputCheck o;
  o.output = spec.name;
  o.limit = tolerance.limit;
  o.plain_error = tolerance.plain_error;
  if (!got) {
    o.ok = false;
    o.problem = "tensor '" + spec.name + "' missing from the result file";
    return o;
  }
  if (got->shape != expected.shape) {
    o.ok = false;
    o.problem = "shape " + shape_to_string(got->shape) + ", expected " + shape_to_string(expected.shape);
    return o;
  }
  const std::int64_t n = expected.size();
  std::vector<float> errors;  // finite |got - expected| of the compared elements
  errors.reserve(static_cast<std::size_t>(n));
  if (expected.is_integer()) {
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t e = expected.ints[std::size_t(i)];
      if (e == -1) continue;
      ++o.compared;
      const double g = got->is_integer() ? double(got->ints[std::size_t(i)]) : got->values[std::size_t(i)];
      if (std::isfinite(g)) errors.push_back(static_cast<float>(std::abs(g - double(e))));
      if (g != double(e)) {
        if (o.worst_index < 0) {
          o.worst_index = i;
          o.worst_expected = double(e);
          o.worst_got = g;
        }
        ++o.nonfinite_mismatches;  // counted as mismatches
        o.max_error = std::max(o.max_error, std::abs(g - double(e)));
      }
    }
    if (o.nonfinite_mismatches > 0) {
      o.ok = false;
      o.problem = fmt::format("{} of {} integers differ", o.nonfinite_mismatches, o.compared);
    }
  } else {
    std::int64_t first_nonfinite = -1;
    for (std::int64_t i = 0; i < n; ++i) {
      const double e = expected.values[std::size_t(i)];
      if (std::isnan(e)) continue;
      ++o.compared;
      const double g = got->is_integer() ? double(got->ints[std::size_t(i)]) : got->values[std::size_t(i)];
      if (std::isnan(g) || std::isinf(g) || std::isinf(e)) {
        if (g != e) {
          ++o.nonfinite_mismatches;
          if (first_nonfinite < 0) first_nonfinite = i;
          o.max_error = worse_error(o.max_error, std::abs(g - e));  // NaN, or an unmatched infinity
        }
        continue;
      }
      const double err = std::abs(g - e);
      errors.push_back(static_cast<float>(err));
      // After a non-finite mismatch, max_error stays NaN or infinite.
      if (o.nonfinite_mismatches == 0 && (o.worst_index < 0 || err > o.max_error)) {
        o.max_error = err;
        o.worst_index = i;
        o.worst_expected = e;
        o.worst_got = g;
      }
    }
    if (o.nonfinite_mismatches > 0) {
      o.ok = false;
      o.worst_index = first_nonfinite;
      o.worst_expected = expected.values[std::size_t(first_nonfinite)];
      o.worst_got = got->is_integer() ? double(got->ints[std::size_t(first_nonfinite)])
                                      : got->values[std::size_t(first_nonfinite)];
      o.problem = fmt::format("{} non-finite mismatches (NaN, or an infinity not matched), first at {}",
                              o.nonfinite_mismatches, position_text(position_of(first_nonfinite, expected.shape)));
    } else if (!tolerance::within_limit(o.max_error, o.limit)) {
      o.ok = false;
      o.problem = fmt::format("max |err| {:.3g} > limit {:.3g} ({:.3g} x plain error {:.3g} + floor {:.3g})",
                              o.max_error, o.limit, tolerance.factor, tolerance.plain_error, tolerance.floor);
    }
  }
  if (o.worst_index >= 0) o.worst_position = position_of(o.worst_index, expected.shape);
  // Errors are kept as float: rounding must not lift the percentile above the (double) maximum.
  const double p99 = tolerance::nearest_rank_quantile(errors, 0.99);
  o.p99_error = std::isnan(o.max_error) ? p99 : std::min(o.max_error, p99);
  if (keep_errors) o.errors = std::move(errors);
  return o;
}

std::string quote(const std::string& s) {
  if (s.find_first_of(" \t'\"$`\\") == std::string::npos) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string value_text(double v) { return std::isnan(v) ? "NaN" : fmt::format("{:.9g}", v); }

std::string not_applicable_message(const CaseSpec& spec, tolerance::Precision precision) {
  return fmt::format("not applicable: the case serves {}, not {}", tolerance::precision_names(spec.precisions),
                     tolerance::precision_name(precision));
}

std::string details(const CaseCheck& c) {
  const bool per_output = std::any_of(c.outputs.begin(), c.outputs.end(), [](const OutputCheck& o) { return !o.ok; });
  std::string text = per_output ? "\n" : c.message + "\n";
  for (const OutputCheck& o : c.outputs) {
    if (o.ok) continue;
    text += fmt::format("  {}: {}", o.output, o.problem);
    if (o.worst_index >= 0)
      text += fmt::format("; worst element {} expected {} got {}", position_text(o.worst_position),
                          value_text(o.worst_expected), value_text(o.worst_got));
    text += "\n";
  }
  text += "  reproduce: " + c.reproduce + "\n  regenerate: " + c.regenerate + "\n";
  return text;
}

// The verdict on `spec` before its outputs are compared: its names, a status and why.
CaseCheck verdict(const CaseSpec& spec, std::string status, std::string message) {
  CaseCheck c;
  c.name = spec.name;
  c.contract = spec.contract;
  c.file = spec.file;
  c.status = std::move(status);
  c.message = std::move(message);
  return c;
}

}  // namespace

double worse_error(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  return std::max(a, b);
}

std::string error_text(double error) { return std::isnan(error) ? "NaN" : fmt::format("{:.3g}", error); }

bool is_worse_ratio(double ratio, double than) {
  if (std::isnan(than)) return false;
  return std::isnan(ratio) || ratio > than;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') out += ' ';
        else out += c;
    }
  }
  return out;
}


bool is_failure(const std::string& status) { return status == "fail" || status == "missing" || status == "error"; }

CaseCheck check_case(const CaseSpec& spec, const CaseFile& vectors, const ResultFile& results,
                     tolerance::Precision precision, bool keep_errors) {
  if (!spec.serves(precision)) return verdict(spec, kNotApplicable, not_applicable_message(spec, precision));
  CaseCheck c = verdict(spec, "pass", "");
  for (const OutputSpec& out : spec.outputs) {
    const auto e = vectors.expected.find(out.name);
    if (e == vectors.expected.end()) throw InputError(spec.file + ": expected." + out.name + " is missing");
    const auto tolerance = out.tolerances.find(precision);
    if (tolerance == out.tolerances.end())
      throw InputError(spec.file + ": output " + out.name + " has no " + std::string(tolerance::precision_name(precision)) +
                       " tolerance");
    const auto g = results.find(out.name);
    OutputCheck o =
        compare_output(out, tolerance->second, e->second, g == results.end() ? nullptr : &g->second, keep_errors);
    if (!o.ok && c.status == "pass") {
      c.status = "fail";
      c.message = out.name + ": " + o.problem;
    }
    c.outputs.push_back(std::move(o));
  }
  return c;
}

CheckReport run_check(const CheckOptions& options) {
  const Index index = read_index(options.vectors / "index.json");
  CheckReport report;
  report.vectors = options.vectors.string();
  report.results = options.results.string();
  report.set = index.set;
  report.seed = index.seed;
  report.generator = index.generator;
  report.precision = options.precision;
  for (const std::string& name : options.contracts) contract(name);  // refuses an unknown one, listing the rest
  for (const std::string& name : options.cases)
    if (!index.find(name)) throw InputError("no case named '" + name + "' in " + (options.vectors / "index.json").string());
  auto selected = [&](const CaseSpec& c) {
    const bool by_contract = options.contracts.empty() ||
                             std::find(options.contracts.begin(), options.contracts.end(), c.contract) != options.contracts.end();
    const bool by_case = options.cases.empty() || std::find(options.cases.begin(), options.cases.end(), c.name) != options.cases.end();
    return by_contract && by_case;
  };
  std::set<std::string> declined_cases;
  if (std::ifstream list(options.results / kSkippedList); list)
    for (std::string line; std::getline(list, line);)
      if (!line.empty()) declined_cases.insert(line);
  for (const CaseSpec& spec : index.cases) {
    if (!selected(spec)) continue;
    const auto start = std::chrono::steady_clock::now();
    CaseCheck c;
    const std::filesystem::path result_path = options.results / spec.file;
    if (!spec.serves(options.precision)) {
      c = verdict(spec, kNotApplicable, not_applicable_message(spec, options.precision));
    } else if (!std::filesystem::exists(result_path)) {
      const bool declined = options.allow_skipped && declined_cases.count(spec.name) > 0;
      c = declined ? verdict(spec, "skipped", "declined by the implementation (" + std::string(kSkippedList) + ")")
                   : verdict(spec, "missing", "no result file " + result_path.string());
    } else {
      try {
        c = check_case(spec, read_case_file(options.vectors / spec.file), read_result_file(result_path),
                       options.precision, options.keep_errors);
      } catch (const std::exception& e) {
        c = verdict(spec, "error", e.what());
      }
    }
    c.reproduce = quote(options.program) + " check " + quote(options.vectors.string()) + " --results " +
                  quote(options.results.string()) + " --case " + spec.name +
                  (options.precision == tolerance::Precision::kFloat32
                       ? ""
                       : " --precision " + std::string(tolerance::precision_name(options.precision)));
    c.regenerate = quote(options.program) + " vectors --out DIR --" + index.set + " --seed " +
                   std::to_string(index.seed) + " --case " + spec.name;
    c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (c.status == "pass") ++report.passed;
    else if (c.status == "missing") ++report.missing;
    else if (c.status == "skipped") ++report.skipped;
    else if (c.status == kNotApplicable) ++report.not_applicable;
    else ++report.failed;
    report.cases.push_back(std::move(c));
  }
  return report;
}

void print_table(const CheckReport& report, std::FILE* out) {
  fmt::print(out, "conformance check: vectors {} ({} set, seed {}), results {}, precision {}\n", report.vectors,
             report.set, report.seed, report.results, tolerance::precision_name(report.precision));
  fmt::print(out, "{:<58} {:<8} {:>11} {:>11} {:>7}\n", "case", "status", "max error", "limit", "ratio");
  for (const CaseCheck& c : report.cases) {
    // The output with the worst error / limit ratio (NaN is the worst), its error and limit.
    const OutputCheck* worst = nullptr;
    for (const OutputCheck& o : c.outputs)
      if (!worst || is_worse_ratio(tolerance::fraction_of_limit(o.max_error, o.limit), tolerance::fraction_of_limit(worst->max_error, worst->limit)))
        worst = &o;
    if (!worst) fmt::print(out, "{:<58} {:<8} {:>11} {:>11} {:>7}\n", c.name, c.status == kNotApplicable ? "n/a" : c.status, "-", "-", "-");
    else
      fmt::print(out, "{:<58} {:<8} {:>11} {:>11.3g} {:>7}\n", c.name, c.status, error_text(worst->max_error),
                 worst->limit, std::isnan(worst->max_error) ? "NaN" : fmt::format("{:.3f}", tolerance::fraction_of_limit(worst->max_error, worst->limit)));
  }
  bool header = false;
  for (const CaseCheck& c : report.cases) {
    if (!is_failure(c.status)) continue;
    if (!header) fmt::print(out, "\nfailures:\n");
    header = true;
    fmt::print(out, "{} [{}] {}", c.name, c.status, details(c));
  }
  fmt::print(out, "\n{} passed, {} failed, {} missing, {} skipped, {} not applicable to {}, of {} cases\n", report.passed,
             report.failed, report.missing, report.skipped, report.not_applicable,
             tolerance::precision_name(report.precision), report.cases.size());
  std::string failing;
  for (const CaseCheck& c : report.cases)
    if (is_failure(c.status)) failing += (failing.empty() ? "" : " ") + c.name;
  if (!failing.empty()) fmt::print(out, "FAILING: {}\n", failing);
}

void write_junit(const CheckReport& report, const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::binary);
  double total = 0;
  for (const CaseCheck& c : report.cases) total += c.seconds;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<!-- " << kReportSchema << " junit, schema_version " << kReportSchemaVersion << " -->\n";
  out << fmt::format("<testsuites name=\"artabpfn-conformance\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{:.3f}\">\n",
                     report.cases.size(), report.failed + report.missing, total);
  out << fmt::format(
      "  <testsuite name=\"conformance.{}.{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3f}\">\n",
      xml_escape(report.set), tolerance::precision_name(report.precision), report.cases.size(), report.failed + report.missing,
      report.skipped + report.not_applicable, total);
  out << "    <properties>\n";
  out << fmt::format("      <property name=\"schema\" value=\"{}\"/>\n", kReportSchema);
  out << fmt::format("      <property name=\"schema_version\" value=\"{}\"/>\n", kReportSchemaVersion);
  out << fmt::format("      <property name=\"vectors\" value=\"{}\"/>\n", xml_escape(report.vectors));
  out << fmt::format("      <property name=\"results\" value=\"{}\"/>\n", xml_escape(report.results));
  out << fmt::format("      <property name=\"seed\" value=\"{}\"/>\n", report.seed);
  out << fmt::format("      <property name=\"precision\" value=\"{}\"/>\n", tolerance::precision_name(report.precision));
  out << "    </properties>\n";
  for (const CaseCheck& c : report.cases) {
    out << fmt::format("    <testcase classname=\"conformance.{}\" name=\"{}\" time=\"{:.3f}\"", xml_escape(c.contract),
                       xml_escape(c.name), c.seconds);
    if (c.status == "pass") {
      out << "/>\n";
      continue;
    }
    out << ">\n";
    if (c.status == "skipped" || c.status == kNotApplicable) {
      out << fmt::format("      <skipped message=\"{}\"/>\n    </testcase>\n", xml_escape(c.message));
      continue;
    }
    out << fmt::format("      <failure type=\"{}\" message=\"{}\">{}</failure>\n", c.status, xml_escape(c.message),
                       xml_escape(details(c)));
    out << "    </testcase>\n";
  }
  out << "  </testsuite>\n</testsuites>\n";
  if (!out) throw InputError("cannot write " + path.string());
}

}  // namespace artabpfn::conformance
