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
      "a float output passes when max |result - expected| <= limit, limit = factor x float32_error + floor, where "
      "float32_error is the max error of the plain float32 reference (the reference instantiated with float) on this "
      "case against the double reference, and floor = floor_ulps x FLT_EPSILON x max(1, max |expected|); all frozen "
      "here at generation. Expected NaN (I64: -1) marks elements that are not compared; infinities must match "
      "exactly; NaN in a result never passes. Integer outputs must be equal.";
  j["floor_ulps"] = tolerance::kConformanceFloor.ulps;
  json cs = json::object();
  for (const ContractInfo& c : contracts())
    cs[c.name] = {{"description", c.description}, {"factor", c.factor}, {"inputs", c.inputs},
                  {"outputs", c.outputs},         {"uses_model", c.uses_model}};
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
    json outputs = json::object();
    for (const OutputSpec& o : c.outputs) {
      outputs[o.name] = {{"dtype", o.dtype},
                         {"shape", o.shape},
                         {"compared", o.compared},
                         {"max_abs_expected", number(o.max_abs_expected)},
                         {"tolerance",
                          {{"factor", o.tolerance.factor},
                           {"float32_error", number(o.tolerance.float32_error)},
                           {"floor", number(o.tolerance.floor)},
                           {"limit", number(o.tolerance.limit)}}},
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
    if (index.schema_version != kIndexSchemaVersion)
      throw InputError(path.string() + ": schema_version " + std::to_string(index.schema_version) +
                       ", this program reads version " + std::to_string(kIndexSchemaVersion));
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
      for (const auto& [name, o] : e.at("outputs").items()) {
        OutputSpec spec;
        spec.name = name;
        spec.dtype = o.at("dtype").get<std::string>();
        spec.shape = o.at("shape").get<Shape>();
        spec.compared = o.at("compared").get<std::int64_t>();
        spec.max_abs_expected = read_number(o.at("max_abs_expected"));
        const json& t = o.at("tolerance");
        spec.tolerance = {t.at("factor").get<double>(), read_number(t.at("float32_error")), read_number(t.at("floor")),
                          read_number(t.at("limit"))};
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
  j["summary"] = {{"cases", report.cases.size()},
                  {"passed", report.passed},
                  {"failed", report.failed},
                  {"missing", report.missing},
                  {"skipped", report.skipped},
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
                 {"float32_error", number(o.float32_error)},
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
    if (c.status != "pass" && c.status != "skipped") failing.push_back(c.name);
    cases.push_back(e);
  }
  j["failing"] = failing;
  j["cases"] = cases;
  write_text(path, j.dump(1));
}

}  // namespace artabpfn::conformance
