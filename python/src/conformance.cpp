// artabpfn._core's conformance functions: writing vectors, the checker of `artabpfn check` (the
// same report files and verdict), and the tolerance rule applied to one result (judge), all
// through the conformance library.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "artabpfn/error.hpp"
#include "conformance/check.hpp"
#include "conformance/vectors.hpp"
#include "convert.hpp"
#include "model.hpp"
#include "module.hpp"
#include "reference_outputs.hpp"
#include "tolerance/constants.hpp"
#include "tolerance/precision.hpp"

namespace artabpfn::python {
namespace {

// The precisions the checker judges in (tolerance/precision.hpp), by name.
std::vector<std::string> precisions() {
  std::vector<std::string> names;
  for (tolerance::Precision p : tolerance::kPrecisions) names.emplace_back(tolerance::precision_name(p));
  return names;
}

tolerance::Precision parse_precision(const std::string& name) {
  const auto precision = tolerance::parse_precision(name);
  if (!precision) throw InputError(fmt::format("precision '{}' is not one of {}", name, tolerance::precision_names()));
  return *precision;
}

nb::dict output_dict(const conformance::OutputCheck& o) {
  nb::dict d;
  d["output"] = o.output;
  d["ok"] = o.ok;
  d["problem"] = o.problem;
  d["max_error"] = o.max_error;
  d["p99_error"] = o.p99_error;
  d["limit"] = o.limit;
  d["plain_error"] = o.plain_error;
  d["compared"] = o.compared;
  d["worst_index"] = o.worst_index;
  d["worst_position"] = o.worst_position;
  d["worst_expected"] = o.worst_expected;
  d["worst_got"] = o.worst_got;
  return d;
}

nb::dict case_dict(const conformance::CaseCheck& c) {
  nb::dict d;
  d["name"] = c.name;
  d["contract"] = c.contract;
  d["file"] = c.file;
  d["status"] = c.status;
  d["message"] = c.message;
  d["reproduce"] = c.reproduce;
  d["regenerate"] = c.regenerate;
  nb::list outputs;
  for (const auto& o : c.outputs) outputs.append(output_dict(o));
  d["outputs"] = outputs;
  return d;
}

// The table print_table writes, as text.
std::string table_text(const conformance::CheckReport& report) {
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* memory = open_memstream(&buffer, &size);
  if (!memory) throw std::runtime_error("open_memstream failed");
  conformance::print_table(report, memory);
  std::fclose(memory);
  std::string text(buffer, size);
  std::free(buffer);
  return text;
}

nb::dict check(const std::string& vectors, const std::string& results, const std::vector<std::string>& contracts,
               const std::vector<std::string>& cases, bool allow_skipped, const std::string& report_dir,
               const std::string& precision, const std::string& program) {
  const tolerance::Precision judged = parse_precision(precision);
  if (!std::filesystem::is_directory(vectors))
    throw InputError(fmt::format("vectors folder '{}' does not exist", vectors));
  if (!std::filesystem::is_directory(results))
    throw InputError(fmt::format("results folder '{}' does not exist", results));
  conformance::CheckOptions options;
  options.vectors = vectors;
  options.results = results;
  options.contracts = contracts;
  options.cases = cases;
  options.allow_skipped = allow_skipped;
  options.precision = judged;
  options.program = program;
  conformance::CheckReport report;
  {
    nb::gil_scoped_release released;
    report = conformance::run_check(options);
    if (!report_dir.empty()) {
      std::filesystem::create_directories(report_dir);
      conformance::write_report_json(report, std::filesystem::path(report_dir) / "report.json");
      conformance::write_junit(report, std::filesystem::path(report_dir) / "junit.xml");
    }
  }
  nb::dict d;
  d["ok"] = report.ok();
  d["passed"] = report.passed;
  d["failed"] = report.failed;
  d["missing"] = report.missing;
  d["skipped"] = report.skipped;
  d["not_applicable"] = report.not_applicable;
  d["precision"] = precision;
  d["table"] = table_text(report);
  nb::list list;
  for (const auto& c : report.cases) list.append(case_dict(c));
  d["cases"] = list;
  return d;
}

nb::dict write_vectors(const std::string& out, const std::string& set, std::uint64_t seed,
                       const std::vector<std::string>& cases) {
  if (set != "quick" && set != "full") throw InputError(fmt::format("set must be 'quick' or 'full', not '{}'", set));
  conformance::VectorOptions options;
  options.set = set;
  options.seed = seed;
  options.cases = cases;
  conformance::VectorSummary summary;
  {
    nb::gil_scoped_release released;
    summary = conformance::write_vectors(out, options);
  }
  nb::dict d;
  d["cases"] = summary.cases;
  d["bytes"] = summary.bytes;
  d["seconds"] = summary.seconds;
  return d;
}

// The rule on one result of a contract (reference_outputs.hpp), as the vectors freeze it: per
// output, limit = factor x (max error of the plain implementations of `precision`) + the floor,
// both against the double reference of these very inputs; the result is compared by the checker
// of `artabpfn check`. The factor is the contract's, or tolerance::kExtremeScoreFactor where the
// scores reach kExtremeScores (as for the vectors' dominated-score cases).
nb::dict judge(const std::string& contract, const std::map<std::string, DoubleArray>& values,
               const std::map<std::string, IntArray>& integers, const std::map<std::string, DoubleArray>& got,
               const std::string& precision, const Model* model) {
  const tolerance::Precision judged = parse_precision(precision);
  conformance::CaseFile file = case_inputs(values, integers);
  const ModelWeights* weights = model ? &model->weights : nullptr;
  const ReferenceOutputs expected = reference_outputs(contract, file, weights);
  const conformance::ContractInfo& info = conformance::contract(contract);
  conformance::CaseSpec spec;
  spec.name = "assert_within_contract";
  spec.contract = contract;
  spec.precisions = info.precisions;
  if (!spec.serves(judged)) {
    std::vector<std::string> served;
    for (tolerance::Precision p : info.precisions) served.emplace_back(tolerance::precision_name(p));
    throw InputError(
        fmt::format("{} is not judged in {}; its precisions are {}", contract, precision, fmt::join(served, ", ")));
  }
  // Scores this large are rounded to ~1e-5 in float32 themselves; ordinary ones are O(1) to O(10).
  constexpr double kExtremeScores = 100.0;
  const double factor = expected.largest_score >= kExtremeScores ? tolerance::kExtremeScoreFactor : info.factor;
  spec.outputs = conformance::frozen_outputs(spec, file, expected.outputs, weights, factor);
  conformance::ResultFile result;
  for (const auto& [name, tensor] : expected.outputs) {
    file.expected[name] = tensor;
    if (const auto g = got.find(name); g != got.end())
      result[name] = conformance::Tensor::f64(shape_of(g->second), values_of(g->second));
  }
  const conformance::CaseCheck c = conformance::check_case(spec, file, result, judged);
  nb::dict d = case_dict(c);
  d["factor"] = factor;
  d["largest_score"] = expected.largest_score;
  d["precision"] = precision;
  nb::dict floors;
  for (const auto& o : spec.outputs) floors[o.name.c_str()] = o.tolerances.at(judged).floor;
  d["floors"] = floors;
  nb::dict references;
  for (const auto& [name, tensor] : expected.outputs) references[name.c_str()] = numpy_array(tensor);
  d["expected"] = references;
  return d;
}

nb::list contract_list() {
  nb::list list;
  for (const conformance::ContractInfo& c : conformance::contracts()) {
    nb::dict d;
    d["name"] = c.name;
    d["description"] = c.description;
    d["factor"] = c.factor;
    d["inputs"] = c.inputs;
    d["outputs"] = c.outputs;
    d["uses_model"] = c.uses_model;
    std::vector<std::string> served;
    for (tolerance::Precision p : c.precisions) served.emplace_back(tolerance::precision_name(p));
    d["precisions"] = served;
    list.append(d);
  }
  return list;
}

}  // namespace

void add_conformance(nb::module_& m) {
  m.def("conformance_precisions", &precisions);
  m.def("conformance_contracts", &contract_list);
  m.def("conformance_planned_cases", &conformance::planned_cases);
  m.def("conformance_write_vectors", &write_vectors);
  m.def("conformance_check", &check);
  m.def("conformance_judge", &judge, nb::arg("contract"), nb::arg("values"), nb::arg("integers"), nb::arg("got"),
        nb::arg("precision"), nb::arg("model").none());
  m.def("conformance_default_seed", [] { return conformance::kDefaultSeed; });
}

}  // namespace artabpfn::python
