// artabpfn._core's conformance functions: writing vectors, the checker of `artabpfn check` (the
// same report files and verdict), and the tolerance rule applied to one result (judge), all
// through the conformance library.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "artabpfn/error.hpp"
#include "conformance/check.hpp"
#include "conformance/vectors.hpp"
#include "contract_inputs.hpp"
#include "convert.hpp"
#include "module.hpp"
#include "tolerance/constants.hpp"
#include "tolerance/rule.hpp"

namespace artabpfn::python {
namespace {

// The precisions whose tolerance the conformance library defines; the checker and judge accept
// exactly these.
const std::vector<std::string>& precisions() {
  static const std::vector<std::string> names = {"float32"};
  return names;
}

void check_precision(const std::string& precision) {
  const auto& names = precisions();
  if (std::find(names.begin(), names.end(), precision) == names.end())
    throw InputError(fmt::format("precision '{}' has no tolerance in this build; the precisions are: {}", precision,
                                 fmt::join(names, ", ")));
}

nb::dict output_dict(const conformance::OutputCheck& o) {
  nb::dict d;
  d["output"] = o.output;
  d["ok"] = o.ok;
  d["problem"] = o.problem;
  d["max_error"] = o.max_error;
  d["p99_error"] = o.p99_error;
  d["limit"] = o.limit;
  d["plain_error"] = o.float32_error;
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
  check_precision(precision);
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

conformance::Tensor f64_tensor(const HostTensor<double>& t) { return conformance::Tensor::f64(t.shape, t.data); }

// The rule on one result of an attention contract, as the vectors freeze it at generation: per
// output, limit = factor x (max error of the plain implementation in `precision`) + the
// conformance floor, both against the double reference of these very inputs; the result is
// compared by the checker of `artabpfn check`. The factor is the contract's, or
// tolerance::kExtremeScoreFactor where the scores reach kExtremeScores.
nb::dict judge(const std::string& contract, const std::map<std::string, DoubleArray>& values,
               const std::map<std::string, IntArray>& integers, const std::map<std::string, DoubleArray>& got,
               const std::string& precision) {
  check_precision(precision);
  const ContractInputs inputs = contract_inputs(values, integers);
  const ContractOutputs expected = attention_contract<double>(contract, inputs);
  const ContractOutputs plain = attention_contract<float>(contract, inputs);
  // Scores this large are rounded to ~1e-5 in float32 themselves; below, they are O(1) to O(10).
  constexpr double kExtremeScores = 100.0;
  const double largest = largest_score(contract, inputs);
  const double factor =
      largest >= kExtremeScores ? tolerance::kExtremeScoreFactor : conformance::contract(contract).factor;
  conformance::CaseSpec spec;
  spec.name = "assert_within_contract";
  spec.contract = contract;
  conformance::CaseFile file;
  conformance::ResultFile result;
  for (const auto& [name, reference] : expected) {
    conformance::OutputSpec o;
    o.name = name;
    o.dtype = "F64";
    o.shape = reference.shape;
    double plain_error = 0.0;
    for (std::size_t i = 0; i < reference.data.size(); ++i) {
      const double e = reference.data[i], p = plain.at(name).data[i];
      if (std::isfinite(e) && std::isfinite(p)) plain_error = std::max(plain_error, std::abs(p - e));
    }
    o.compared = reference.size();
    o.max_abs_expected = tolerance::max_abs_finite(reference.data);
    const tolerance::Bound bound{factor, plain_error, tolerance::kConformanceFloor.at(o.max_abs_expected)};
    o.tolerance = {bound.factor, bound.plain_error, bound.floor, bound.limit()};
    spec.outputs.push_back(o);
    file.expected[name] = f64_tensor(reference);
    const auto g = got.find(name);
    if (g != got.end()) result[name] = conformance::Tensor::f64(shape_of(g->second), values_of(g->second));
  }
  const conformance::CaseCheck c = conformance::check_case(spec, file, result);
  nb::dict d = case_dict(c);
  d["factor"] = factor;
  d["largest_score"] = largest;
  d["precision"] = precision;
  nb::dict floors;
  for (const auto& o : spec.outputs) floors[o.name.c_str()] = o.tolerance.floor;
  d["floors"] = floors;
  nb::dict refs;
  for (const auto& [name, reference] : expected) refs[name.c_str()] = numpy_array(reference);
  d["expected"] = refs;
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
  m.def("conformance_judge", &judge);
  m.def("conformance_default_seed", [] { return conformance::kDefaultSeed; });
}

}  // namespace artabpfn::python
