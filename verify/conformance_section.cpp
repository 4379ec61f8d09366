// Conformance part of the verification report: vectors, an in-process adapter run, the check, and
// the aggregation per contract.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <set>
#include <stdexcept>

#include "conformance/vectors.hpp"
#include "tolerance/quantile.hpp"
#include "tolerance/rule.hpp"
#include "verify/verify.hpp"

namespace artabpfn::verify {

std::string ContractRow::status() const {
  if (failed > 0) return "fail";
  if (passed > 0) return "pass";
  return not_applicable > 0 ? conformance::kNotApplicable : "skipped";
}

int ConformanceSection::cases() const {
  int n = 0;
  for (const ContractRow& r : rows) n += r.cases;
  return n;
}

int ConformanceSection::failed() const {
  int n = 0;
  for (const ContractRow& r : rows) n += r.failed;
  return n;
}

bool ConformanceSection::ok() const {
  int passed = 0;
  for (const ContractRow& r : rows) passed += r.passed;
  return passed > 0 && failed() == 0 && adapter_errors.empty();
}

std::string contract_kind(const std::string& contract) {
  static const std::set<std::string> jobs = {"prefill_kv", "teacher_forcing_density", "forced_ar_density",
                                             "buffer_kv_append", "sample_sequence"};
  return jobs.count(contract) ? "engine job" : "kernel";
}

namespace {

// The output's error / limit under each precision its case serves, kept where it is the worst.
void note_precision_ratios(const conformance::CaseSpec& spec, const conformance::OutputCheck& o,
                           std::map<tolerance::Precision, double>& worst) {
  for (const conformance::OutputSpec& out : spec.outputs) {
    if (out.name != o.output) continue;
    for (const auto& [precision, t] : out.tolerances) {
      const double ratio = tolerance::fraction_of_limit(o.max_error, t.limit);
      auto [it, fresh] = worst.try_emplace(precision, ratio);
      if (!fresh && conformance::is_worse_ratio(ratio, it->second)) it->second = ratio;
    }
  }
}

}  // namespace

std::vector<ContractRow> summarize(const conformance::Index& index, const conformance::CheckReport& report) {
  std::vector<ContractRow> rows;
  for (const conformance::ContractInfo& info : conformance::contracts()) {
    ContractRow row;
    row.contract = info.name;
    row.kind = contract_kind(info.name);
    std::set<std::string> shapes;
    std::vector<float> errors;
    for (const conformance::CaseCheck& c : report.cases) {
      if (c.contract != info.name) continue;
      ++row.cases;
      if (c.status == "skipped") {
        ++row.skipped;
        continue;
      }
      if (c.status == conformance::kNotApplicable) {
        ++row.not_applicable;
        continue;
      }
      if (c.status == "pass") {
        ++row.passed;
      } else {
        ++row.failed;
        row.failing.push_back(c.name);
      }
      const conformance::CaseSpec* spec = index.find(c.name);
      if (spec) {
        std::string signature;
        for (const auto& [name, shape] : spec->shapes) signature += name + shape_to_string(shape) + ";";
        shapes.insert(signature);
        for (const auto& [name, value] : spec->params) {
          if (name.find("seed") != std::string::npos) continue;  // not a size
          auto [it, fresh] = row.param_ranges.try_emplace(name, value, value);
          if (!fresh) it->second = {std::min(it->second.first, value), std::max(it->second.second, value)};
        }
      }
      for (const conformance::OutputCheck& o : c.outputs) {
        errors.insert(errors.end(), o.errors.begin(), o.errors.end());
        if (spec) note_precision_ratios(*spec, o, row.worst_ratio_by_precision);
        row.max_error = conformance::worse_error(row.max_error, o.max_error);
        const double ratio = tolerance::fraction_of_limit(o.max_error, o.limit);
        if (row.worst_case.empty() || conformance::is_worse_ratio(ratio, row.worst_ratio)) {
          row.worst_ratio = ratio;
          row.worst_error = o.max_error;
          row.tolerance = o.limit;
          row.worst_case = c.name;
          row.worst_output = o.output;
          row.worst_position = o.worst_position;
        }
      }
    }
    row.shapes = int(shapes.size());
    const double p99 = tolerance::nearest_rank_quantile(errors, 0.99);
    row.p99_error = std::isnan(row.max_error) ? p99 : std::min(row.max_error, p99);  // float rounding
    if (row.cases > 0) rows.push_back(std::move(row));
  }
  return rows;
}

ConformanceSection run_conformance(const ConformanceOptions& options, const conformance::Implementation& implementation) {
  const auto start = std::chrono::steady_clock::now();
  ConformanceSection section;
  section.implementation = options.implementation;
  section.engine_precision = options.engine_precision;
  const auto judged = tolerance::engine_precision_judged_as(options.engine_precision);
  if (!judged) throw std::invalid_argument("verify: no engine precision '" + options.engine_precision + "'");
  section.judged = *judged;
  section.set = options.set;
  section.seed = options.seed;
  if (const char* m = std::getenv("ARTABPFN_MUTANT"); m && *m) section.mutant = m;

  const std::filesystem::path vectors = options.work_dir / "vectors", results = options.work_dir / "results";
  conformance::VectorOptions vector_options;
  vector_options.set = options.set;
  vector_options.seed = options.seed;
  conformance::write_vectors(vectors, vector_options);

  conformance::AdapterRun run;
  run.vectors = vectors;
  run.results = results;
  run.quiet = true;
  const conformance::AdapterSummary adapter = conformance::run_adapter(run, implementation, "verify: " + options.implementation);
  section.adapter_errors = adapter.errors;

  conformance::CheckOptions check;
  check.vectors = vectors;
  check.results = results;
  check.allow_skipped = true;
  check.keep_errors = true;
  check.precision = section.judged;
  const conformance::CheckReport report = conformance::run_check(check);
  section.rows = summarize(conformance::read_index(vectors / "index.json"), report);
  section.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return section;
}

}  // namespace artabpfn::verify
