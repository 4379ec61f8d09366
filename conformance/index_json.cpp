// The JSON side of the format: index.json and report.json. The only translation unit of the
// conformance library that includes nlohmann-json (it is slow to compile).
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "artabpfn/error.hpp"
#include "conformance/check.hpp"
#include "conformance/format.hpp"
#include "tolerance/constants.hpp"

namespace artabpfn::conformance {
namespace {

using json = nlohmann::ordered_json;

// JSON has no infinity or NaN: they are written as strings.
json number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

double read_number(const json& j) {
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    throw InputError("index.json: '" + s + "' is not a number");
  }
  return j.get<double>();
}

json config_json(const ModelConfig& c) {
  return {{"d_model", c.d_model},       {"n_heads", c.n_heads},         {"n_layers", c.n_layers},
          {"d_ff", c.d_ff},             {"buffer_size", c.buffer_size}, {"num_components", c.num_components},
          {"head_dim", c.head_dim()}};
}

json precision_list(const std::vector<tolerance::Precision>& precisions) {
  json list = json::array();
  for (tolerance::Precision p : precisions) list.push_back(tolerance::precision_name(p));
  return list;
}

std::vector<tolerance::Precision> read_precisions(const json& list) {
  std::vector<tolerance::Precision> out;
  for (const json& name : list) {
    const auto p = tolerance::parse_precision(name.get<std::string>());
    if (!p) throw InputError("index.json: unknown precision '" + name.get<std::string>() + "'");
    out.push_back(*p);
  }
  return out;
}

json tolerance_json(const Tolerance& t) {
  json j = {{"factor", t.factor}, {"plain_error", number(t.plain_error)}, {"floor", number(t.floor)}, {"limit", number(t.limit)}};
  if (!t.plain_errors.empty()) {
    json errors = json::object();
    for (const auto& [arithmetic, error] : t.plain_errors) errors[arithmetic] = number(error);
    j["plain_errors"] = errors;
  }
  return j;
}

Tolerance read_tolerance(const json& t, const char* plain_error_key) {
  Tolerance out{t.at("factor").get<double>(), read_number(t.at(plain_error_key)), read_number(t.at("floor")),
                read_number(t.at("limit")), {}};
  if (t.contains("plain_errors"))
    for (const auto& [arithmetic, error] : t.at("plain_errors").items()) out.plain_errors[arithmetic] = read_number(error);
  return out;
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text << "\n";
  if (!out) throw InputError("cannot write " + path.string());
}

}  // namespace

void write_index(const Index& index, const std::filesystem::path& path) {
  json j;
  j["schema"] = kIndexSchema;
  j["schema_version"] = index.schema_version;
  j["set"] = index.set;
  j["seed"] = index.seed;
  j["generator"] = index.generator;
  j["random_stream"] = index.random_stream;
  j["tolerance_rule"] =
      "a float output passes in precision P when max |result - expected| <= tolerances[P].limit, limit = factor x "
      "plain_error + floor, where plain_error is the max error, against the double reference, of the plain "
      "implementation that rounds as P says (float32: the reference instantiated with float; tf32: the larger of "
      "its round-to-nearest and truncating emulations) on this case, and floor = floor_ulps float32 ulps of "
      "max(1, max |expected|) (for the 'out' of bf16 and fp16: rounded_output_floor_ulps ulps of that format); "
      "all frozen here at generation (docs/precisions.md). 'tolerance' repeats the float32 one (schema version 1). "
      "Expected NaN (I64: -1) marks elements that are not compared; infinities must match exactly; NaN in a "
      "result never passes. Integer outputs must be equal.";
  j["floor_ulps"] = tolerance::kConformanceFloor.ulps;
  j["rounded_output_floor_ulps"] = tolerance::kRoundedOutputFloorUlps;
  j["precisions"] = {
      {"float32", "float32 arithmetic throughout"},
      {"tf32", "the operands of every matrix product rounded to TF32 (10 explicit mantissa bits, to nearest or "
               "truncated); products and sums in float32"},
      {"bf16", "attention: inputs and softmax probabilities rounded to bfloat16 before the products, float32 "
               "accumulation, output rounded to bfloat16, LSE float32"},
      {"fp16", "as bf16 with IEEE binary16"}};
  json cs = json::object();
  for (const ContractInfo& c : contracts())
    cs[c.name] = {{"description", c.description}, {"factor", c.factor},
                  {"inputs", c.inputs},           {"outputs", c.outputs},
                  {"uses_model", c.uses_model},   {"precisions", precision_list(c.precisions)}};
  j["contracts"] = cs;
  json models = json::array();
  for (const ModelSpec& m : index.models)
    models.push_back({{"name", m.name}, {"file", m.file}, {"config", config_json(m.config)}});
  j["models"] = models;
  json cases = json::array();
  for (const CaseSpec& c : index.cases) {
    json e;
    e["name"] = c.name;
    e["contract"] = c.contract;
    e["file"] = c.file;
    e["model"] = c.model.empty() ? json(nullptr) : json(c.model);
    e["seed"] = c.seed;
    e["families"] = c.families;
    if (!c.note.empty()) e["note"] = c.note;
    json shapes = json::object();
    for (const auto& [name, shape] : c.shapes) shapes[name] = shape;
    e["shapes"] = shapes;
    json params = json::object();
    for (const auto& [name, v] : c.params) params[name] = v;
    for (const auto& [name, v] : c.labels) params[name] = v;
    e["params"] = params;
    e["precisions"] = precision_list(c.precisions);
    json outputs = json::object();
    for (const OutputSpec& o : c.outputs) {
      json tolerances = json::object();
      for (const auto& [precision, t] : o.tolerances) tolerances[std::string(tolerance::precision_name(precision))] = tolerance_json(t);
      const Tolerance& f = o.tolerances.at(tolerance::Precision::kFloat32);
      outputs[o.name] = {{"dtype", o.dtype},
                         {"shape", o.shape},
                         {"compared", o.compared},
                         {"max_abs_expected", number(o.max_abs_expected)},
                         {"tolerances", tolerances},
                         {"tolerance",
                          {{"factor", f.factor},
                           {"float32_error", number(f.plain_error)},
                           {"floor", number(f.floor)},
                           {"limit", number(f.limit)}}},
                         {"multiprecision", o.multiprecision},
                         {"multiprecision_minus_double", number(o.multiprecision_minus_double)}};
    }
    e["outputs"] = outputs;
    cases.push_back(e);
  }
  j["cases"] = cases;
  write_text(path, j.dump(1));
}

Index read_index(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot open (is this a conformance vectors directory?)");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw InputError(path.string() + ": not valid JSON: " + e.what());
  }
  try {
    if (j.at("schema").get<std::string>() != kIndexSchema)
      throw InputError(path.string() + ": schema is not " + std::string(kIndexSchema));
    Index index;
    index.schema_version = j.at("schema_version").get<int>();
    if (index.schema_version != kIndexSchemaVersion && index.schema_version != 1)
      throw InputError(path.string() + ": schema_version " + std::to_string(index.schema_version) +
                       ", this program reads versions 1 and " + std::to_string(kIndexSchemaVersion));
    const bool per_precision = index.schema_version >= 2;
    index.set = j.at("set").get<std::string>();
    index.seed = j.at("seed").get<std::uint64_t>();
    index.generator = j.at("generator").get<std::string>();
    index.random_stream = j.at("random_stream").get<std::string>();
    for (const json& m : j.at("models")) {
      ModelSpec spec;
      spec.name = m.at("name").get<std::string>();
      spec.file = m.at("file").get<std::string>();
      const json& c = m.at("config");
      spec.config.d_model = c.at("d_model").get<int>();
      spec.config.n_heads = c.at("n_heads").get<int>();
      spec.config.n_layers = c.at("n_layers").get<int>();
      spec.config.d_ff = c.at("d_ff").get<int>();
      spec.config.buffer_size = c.at("buffer_size").get<int>();
      spec.config.num_components = c.at("num_components").get<int>();
      index.models.push_back(spec);
    }
    for (const json& e : j.at("cases")) {
      CaseSpec c;
      c.name = e.at("name").get<std::string>();
      c.contract = e.at("contract").get<std::string>();
      c.file = e.at("file").get<std::string>();
      if (!e.at("model").is_null()) c.model = e.at("model").get<std::string>();
      c.seed = e.at("seed").get<std::uint64_t>();
      c.families = e.at("families").get<std::vector<std::string>>();
      if (e.contains("note")) c.note = e.at("note").get<std::string>();
      for (const auto& [name, shape] : e.at("shapes").items()) c.shapes[name] = shape.get<Shape>();
      for (const auto& [name, v] : e.at("params").items()) {
        if (v.is_string()) c.labels[name] = v.get<std::string>();
        else c.params[name] = v.get<std::int64_t>();
      }
      c.precisions = per_precision ? read_precisions(e.at("precisions")) : std::vector{tolerance::Precision::kFloat32};
      for (const auto& [name, o] : e.at("outputs").items()) {
        OutputSpec spec;
        spec.name = name;
        spec.dtype = o.at("dtype").get<std::string>();
        spec.shape = o.at("shape").get<Shape>();
        spec.compared = o.at("compared").get<std::int64_t>();
        spec.max_abs_expected = read_number(o.at("max_abs_expected"));
        if (per_precision) {
          for (const auto& [precision_name, t] : o.at("tolerances").items()) {
            const auto precision = tolerance::parse_precision(precision_name);
            if (!precision) throw InputError(path.string() + ": unknown precision '" + precision_name + "'");
            spec.tolerances[*precision] = read_tolerance(t, "plain_error");
          }
        } else {
          spec.tolerances[tolerance::Precision::kFloat32] = read_tolerance(o.at("tolerance"), "float32_error");
        }
        for (tolerance::Precision precision : c.precisions)
          if (!spec.tolerances.count(precision))
            throw InputError(path.string() + ": case " + c.name + " serves " +
                             std::string(tolerance::precision_name(precision)) + " but output " + name +
                             " has no tolerance for it");
        spec.multiprecision = o.at("multiprecision").get<bool>();
        spec.multiprecision_minus_double = read_number(o.at("multiprecision_minus_double"));
        c.outputs.push_back(spec);
      }
      index.cases.push_back(std::move(c));
    }
    return index;
  } catch (const json::exception& e) {
    throw InputError(path.string() + ": malformed index: " + e.what());
  }
}

void write_report_json(const CheckReport& report, const std::filesystem::path& path) {
  json j;
  j["schema"] = kReportSchema;
  j["schema_version"] = kReportSchemaVersion;
  j["vectors"] = report.vectors;
  j["results"] = report.results;
  j["set"] = report.set;
  j["seed"] = report.seed;
  j["generator"] = report.generator;
  j["precision"] = tolerance::precision_name(report.precision);
  j["summary"] = {{"cases", report.cases.size()},
                  {"passed", report.passed},
                  {"failed", report.failed},
                  {"missing", report.missing},
                  {"skipped", report.skipped},
                  {"not_applicable", report.not_applicable},
                  {"ok", report.ok()}};
  json cases = json::array();
  json failing = json::array();
  for (const CaseCheck& c : report.cases) {
    json e = {{"name", c.name},           {"contract", c.contract},       {"file", c.file},
              {"status", c.status},       {"message", c.message},         {"reproduce", c.reproduce},
              {"regenerate", c.regenerate}, {"seconds", c.seconds}};
    json outputs = json::array();
    for (const OutputCheck& o : c.outputs) {
      json oj = {{"output", o.output},
                 {"ok", o.ok},
                 {"problem", o.problem},
                 {"max_error", number(o.max_error)},
                 {"p99_error", number(o.p99_error)},
                 {"limit", number(o.limit)},
                 {"plain_error", number(o.plain_error)},
                 {"compared", o.compared},
                 {"nonfinite_mismatches", o.nonfinite_mismatches}};
      if (o.worst_index >= 0)
        oj["worst"] = {{"index", o.worst_index},
                       {"position", o.worst_position},
                       {"expected", number(o.worst_expected)},
                       {"got", number(o.worst_got)}};
      outputs.push_back(oj);
    }
    e["outputs"] = outputs;
    if (is_failure(c.status)) failing.push_back(c.name);
    cases.push_back(e);
  }
  j["failing"] = failing;
  j["cases"] = cases;
  write_text(path, j.dump(1));
}

}  // namespace artabpfn::conformance
