#include "conformance/adapter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "artabpfn/error.hpp"
#include "artabpfn/notices.hpp"
#include "artabpfn/weights_loader.hpp"

namespace artabpfn::conformance {

std::vector<float> CaseInput::f32(const std::string& name) const {
  const Tensor& t = input(name);
  if (t.is_integer()) throw InputError(spec.file + ": input '" + name + "' is an integer tensor");
  return std::vector<float>(t.values.begin(), t.values.end());
}

std::vector<double> CaseInput::f64(const std::string& name) const {
  const Tensor& t = input(name);
  if (t.is_integer()) throw InputError(spec.file + ": input '" + name + "' is an integer tensor");
  return t.values;
}

std::vector<std::int64_t> CaseInput::i64(const std::string& name) const {
  const Tensor& t = input(name);
  if (!t.is_integer()) throw InputError(spec.file + ": input '" + name + "' is not an integer tensor");
  return t.ints;
}

std::int64_t CaseInput::scalar(const std::string& name) const {
  const std::vector<std::int64_t> v = i64(name);
  if (v.size() != 1) throw InputError(spec.file + ": input '" + name + "' is not a single value");
  return v[0];
}

Tensor float_tensor(const Shape& shape, const std::vector<float>& values) {
  return Tensor{safetensors::DType::F32, shape, std::vector<double>(values.begin(), values.end()), {}};
}

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

void write_skipped_list(const std::filesystem::path& results, const std::vector<std::string>& cases) {
  std::ofstream out(results / kSkippedList, std::ios::binary);
  for (const std::string& c : cases) out << c << "\n";
  if (!out) throw InputError("cannot write " + (results / kSkippedList).string());
}

AdapterSummary run_adapter(const AdapterRun& run, const Implementation& implementation, const std::string& name) {
  const Index index = read_index(run.vectors / "index.json");
  std::filesystem::create_directories(run.results);
  std::map<std::string, ModelWeights> weights;
  AdapterSummary summary;
  std::vector<std::string> skipped_cases;
  const auto start = std::chrono::steady_clock::now();
  auto listed = [](const std::vector<std::string>& list, const std::string& item) {
    return list.empty() || std::find(list.begin(), list.end(), item) != list.end();
  };
  auto skip = [&](const CaseSpec& spec) {
    ++summary.skipped;
    ++summary.skipped_by_contract[spec.contract];
    skipped_cases.push_back(spec.name);
  };
  for (const CaseSpec& spec : index.cases) {
    if (!listed(run.contracts, spec.contract) || !listed(run.cases, spec.name)) continue;
    const auto fn = implementation.find(spec.contract);
    if (fn == implementation.end()) {
      skip(spec);
      continue;
    }
    try {
      const ModelWeights* w = nullptr;
      if (!spec.model.empty()) {
        auto it = weights.find(spec.model);
        if (it == weights.end()) {
          LoadOptions options;
          options.notices = [](const std::string&) {};
          it = weights.emplace(spec.model, load_weights(run.vectors / index.model(spec.model).file, options)).first;
        }
        w = &it->second;
      }
      const CaseFile file = read_case_file(run.vectors / spec.file);
      const ResultFile result = fn->second(CaseInput{spec, file, w});
      if (result.empty()) {  // the implementation declines this case (e.g. a variant it lacks)
        skip(spec);
        continue;
      }
      write_result_file(run.results / spec.file, result);
      ++summary.written;
      if (!run.quiet) fmt::print("{}: {}\n", name, spec.name);
    } catch (const std::exception& e) {
      ++summary.failed;
      summary.errors.push_back(spec.name + ": " + e.what());
      fmt::print(stderr, "{}: {}: {}\n", name, spec.name, e.what());
    }
  }
  write_skipped_list(run.results, skipped_cases);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

int adapter_main(int argc, char** argv, const Implementation& implementation, const std::string& name) {
  AdapterRun run;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--contracts" || a == "--case") && i + 1 < argc) {
      const std::vector<std::string> items = split_list(argv[++i]);
      std::vector<std::string>& list = a == "--contracts" ? run.contracts : run.cases;
      list.insert(list.end(), items.begin(), items.end());
    } else if (a == "--quiet") {
      run.quiet = true;
    } else if (a == "-h" || a == "--help") {
      fmt::print("usage: {} VECTORS_DIR RESULTS_DIR [--contracts a,b] [--case NAME] [--quiet]\n"
                 "Runs {} on every conformance case of a contract it implements and writes the results.\n",
                 argv[0], name);
      return 0;
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2) {
    fmt::print(stderr, "usage: {} VECTORS_DIR RESULTS_DIR [--contracts a,b] [--case NAME] [--quiet]\n", argv[0]);
    return 2;
  }
  try {
    run.vectors = positional[0];
    run.results = positional[1];
    const AdapterSummary summary = run_adapter(run, implementation, name);
    std::string skipped_text;
    for (const auto& [c, n] : summary.skipped_by_contract) skipped_text += fmt::format(" {} ({})", c, n);
    fmt::print("{}: wrote {} results to {}, {} failed, {} skipped{} ({:.1f} s)\n", name, summary.written,
               run.results.string(), summary.failed, summary.skipped, skipped_text.empty() ? "" : ":" + skipped_text,
               summary.seconds);
    return summary.failed == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: error: {}\n", name, e.what());
    return 2;
  }
}

}  // namespace artabpfn::conformance
