// The generation loop over the case plan (case_plan.hpp): each case's inputs and reference outputs
// (generators.hpp), its tolerances frozen from the plain implementations, its file, and index.json.
#include "conformance/vectors.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "artabpfn/error.hpp"
#include "artabpfn/random_stream.hpp"
#include "artabpfn/weights_loader.hpp"
#include "conformance/case_plan.hpp"
#include "conformance/generators.hpp"
#include "conformance/plain/implementation.hpp"
#include "tolerance/constants.hpp"

namespace artabpfn::conformance {
namespace {

using detail::case_seed;
using detail::Generated;
using detail::model_weights;
using detail::plan;
using detail::Planned;
using detail::planned_models;
using detail::PlannedModel;

// The plain implementation of every arithmetic, built once.
const std::map<plain::Arithmetic, Implementation>& plain_implementations() {
  static const std::map<plain::Arithmetic, Implementation> table = [] {
    std::map<plain::Arithmetic, Implementation> t;
    for (tolerance::Precision p : tolerance::kPrecisions)
      for (plain::Arithmetic a : plain::arithmetics(p)) t.emplace(a, plain::plain_implementation(a));
    return t;
  }();
  return table;
}

// max |plain - expected| over the compared elements of one output; the plain result must be
// non-finite exactly where the expected value is.
double plain_error(const std::string& case_name, const std::string& name, plain::Arithmetic arithmetic,
                   const Tensor& expected, const Tensor& plain) {
  if (plain.values.size() != expected.values.size())
    throw std::logic_error(fmt::format("{}: {}: the plain {} result has {} elements, expected {}", case_name, name,
                                       plain::arithmetic_name(arithmetic), plain.values.size(), expected.values.size()));
  double err = 0;
  for (std::size_t i = 0; i < expected.values.size(); ++i) {
    const double e = expected.values[i], f = plain.values[i];
    if (std::isnan(e)) continue;
    if (!std::isfinite(e) || !std::isfinite(f)) {
      if (e != f)
        throw std::logic_error(fmt::format("{}: {}[{}]: the plain {} implementation gives {} where double gives {}",
                                           case_name, name, i, plain::arithmetic_name(arithmetic), f, e));
      continue;
    }
    err = std::max(err, std::abs(f - e));
  }
  return err;
}

// The frozen tolerances of one float output, one per precision the case serves: the factor
// times the largest error of the precision's arithmetics, plus the floor in the output's format
// (the LSE stays float32 in every precision).
OutputSpec float_output(const CaseSpec& spec, const std::string& name, const Tensor& expected,
                        const std::map<plain::Arithmetic, ResultFile>& plain_results, double factor) {
  OutputSpec o;
  o.name = name;
  o.dtype = "F64";
  o.shape = expected.shape;
  o.compared = std::count_if(expected.values.begin(), expected.values.end(), [](double v) { return !std::isnan(v); });
  o.max_abs_expected = tolerance::max_abs_finite(expected.values);
  for (tolerance::Precision precision : spec.precisions) {
    Tolerance t;
    for (plain::Arithmetic a : plain::arithmetics(precision)) {
      const double error = plain_error(spec.name, name, a, expected, plain_results.at(a).at(name));
      t.plain_error = std::max(t.plain_error, error);
      if (plain::arithmetics(precision).size() > 1) t.plain_errors[std::string(plain::arithmetic_name(a))] = error;
    }
    const tolerance::UlpFormat format = name == "lse" ? tolerance::UlpFormat::kFloat32 : tolerance::output_format(precision);
    const tolerance::Bound bound{factor, t.plain_error, tolerance::conformance_floor(format).at(o.max_abs_expected)};
    t.factor = bound.factor;
    t.floor = bound.floor;
    t.limit = bound.limit();
    o.tolerances[precision] = t;
  }
  return o;
}

}  // namespace

std::vector<OutputSpec> frozen_outputs(const CaseSpec& spec, const CaseFile& file,
                                       const std::vector<std::pair<std::string, Tensor>>& expected_outputs,
                                       const ModelWeights* weights, double factor) {
  const CaseInput input{spec, file, weights};
  std::map<plain::Arithmetic, ResultFile> plain_results;
  for (tolerance::Precision precision : spec.precisions)
    for (plain::Arithmetic a : plain::arithmetics(precision))
      plain_results[a] = plain_implementations().at(a).at(spec.contract)(input);
  std::vector<OutputSpec> outputs;
  for (const auto& [name, expected] : expected_outputs) {
    if (!expected.is_integer()) {
      outputs.push_back(float_output(spec, name, expected, plain_results, factor));
      continue;
    }
    OutputSpec o;
    o.name = name;
    o.dtype = "I64";
    o.shape = expected.shape;
    o.compared = std::count_if(expected.ints.begin(), expected.ints.end(), [](std::int64_t v) { return v != -1; });
    for (tolerance::Precision precision : spec.precisions) o.tolerances[precision] = Tolerance{};
    outputs.push_back(o);
  }
  return outputs;
}

std::vector<std::string> planned_cases(const std::string& set) {
  // The plan only needs the models' configurations; weights are drawn when generating.
  std::map<std::string, ModelWeights> placeholders;
  for (const PlannedModel& m : planned_models(set)) placeholders[m.name].config = m.config;
  std::vector<std::string> names;
  for (const Planned& c : plan(set, placeholders)) names.push_back(c.spec.name);
  return names;
}

VectorSummary write_vectors(const std::filesystem::path& dir, const VectorOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  std::filesystem::create_directories(dir);
  const std::map<std::string, ModelWeights> weights = model_weights(options.set, options.seed);
  std::vector<Planned> cases = plan(options.set, weights);
  for (const std::string& name : options.cases)
    if (std::none_of(cases.begin(), cases.end(), [&](const Planned& c) { return c.spec.name == name; }))
      throw InputError("no case named '" + name + "' in the " + options.set + " set");
  if (!options.cases.empty())
    std::erase_if(cases, [&](const Planned& c) {
      return std::find(options.cases.begin(), options.cases.end(), c.spec.name) == options.cases.end();
    });

  Index index;
  index.set = options.set;
  index.seed = options.seed;
  index.generator = std::string("artabpfn ") + ARTABPFN_CONFORMANCE_VERSION;
  index.random_stream = random_stream::kLayoutName;
  VectorSummary summary;
  for (const PlannedModel& m : planned_models(options.set)) {
    const bool used = std::any_of(cases.begin(), cases.end(), [&](const Planned& c) { return c.spec.model == m.name; });
    if (!used) continue;
    ModelSpec spec{m.name, "model." + m.name + ".safetensors", m.config};
    save_weights(weights.at(m.name), dir / spec.file);
    summary.bytes += std::filesystem::file_size(dir / spec.file);
    index.models.push_back(spec);
  }
  for (Planned& c : cases) {
    c.spec.seed = case_seed(options.seed, c.spec.name);
    c.spec.precisions = contract(c.spec.contract).precisions;
    const Generated g = c.make(c.spec.seed);
    CaseFile file;
    file.inputs = g.inputs;
    for (const auto& [name, t] : g.inputs) c.spec.shapes[name] = t.shape;
    for (const auto& [name, expected] : g.expected) file.expected[name] = expected;
    std::vector<OutputSpec> outputs =
        frozen_outputs(c.spec, file, g.expected, c.spec.model.empty() ? nullptr : &weights.at(c.spec.model), c.factor);
    for (OutputSpec& o : outputs) {
      const std::string& name = o.name;
      const Tensor& expected = file.expected.at(name);
      const auto mp = g.multiprecision.find(name);
      if (mp != g.multiprecision.end()) {
        double diff = 0;
        for (std::size_t i = 0; i < expected.values.size(); ++i)
          if (std::isfinite(expected.values[i])) diff = std::max(diff, std::abs(mp->second.values[i] - expected.values[i]));
        o.multiprecision_minus_double = diff;
        if (diff > 0) {
          o.multiprecision = true;
          file.multiprecision[name] = mp->second;
        }
        // The oracle must be far more accurate than what it judges (float32 has the tightest limits).
        const double limit = o.tolerances.at(tolerance::Precision::kFloat32).limit;
        if (diff > 0.01 * limit)
          throw std::logic_error(fmt::format("{}: {}: double reference is {} from multiprecision, limit {}", c.spec.name,
                                             name, diff, limit));
      }
    }
    c.spec.outputs = std::move(outputs);
    write_case_file(dir / c.spec.file, file, c.spec.name, c.spec.contract);
    summary.bytes += std::filesystem::file_size(dir / c.spec.file);
    if (options.progress) options.progress(c.spec.name);
    index.cases.push_back(c.spec);
  }
  write_index(index, dir / "index.json");
  summary.bytes += std::filesystem::file_size(dir / "index.json");
  summary.cases = index.cases.size();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace artabpfn::conformance
