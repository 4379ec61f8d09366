#pragma once
// The loop every C++ adapter shares (the float32 CPU implementation, the CUDA kernels): read
// index.json, run the implementation's function for each case whose contract it implements,
// and write RESULTS/<case file> with the output tensors. Cases of other contracts are skipped
// (and reported): `artabpfn check --contracts ...` then checks only what was run.
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "artabpfn/model_weights.hpp"
#include "conformance/format.hpp"

namespace artabpfn::conformance {

struct CaseInput {
  const CaseSpec& spec;
  const CaseFile& file;
  const ModelWeights* weights;  // nullptr for contracts without a model

  const Tensor& input(const std::string& name) const { return file.input(name); }
  std::vector<float> f32(const std::string& name) const;
  std::vector<double> f64(const std::string& name) const;
  std::vector<std::int64_t> i64(const std::string& name) const;
  std::int64_t scalar(const std::string& name) const;  // a [1] I64 input
};

// Returns the outputs, or an empty ResultFile to decline the case (it is then listed as skipped).
using ContractFunction = std::function<ResultFile(const CaseInput&)>;
using Implementation = std::map<std::string, ContractFunction>;

// RESULTS/skipped.txt: the cases an adapter did not run (one name per line); `artabpfn check
// --allow-skipped` reports them as skipped instead of missing.
void write_skipped_list(const std::filesystem::path& results, const std::vector<std::string>& cases);

// Float outputs as F32 tensors, integers as I64.
Tensor float_tensor(const Shape& shape, const std::vector<float>& values);

struct AdapterSummary {
  int written = 0, skipped = 0, failed = 0;
  std::map<std::string, int> skipped_by_contract;
  std::vector<std::string> errors;  // "case: message" for each case that threw
  double seconds = 0.0;
};

// What one adapter run covers (the options of adapter_main).
struct AdapterRun {
  std::filesystem::path vectors, results;
  std::vector<std::string> contracts;  // empty: all
  std::vector<std::string> cases;      // empty: all
  bool quiet = false;                  // no line per case written
};

// Runs `implementation` on the selected cases of RUN.vectors and writes RUN.results/<case file>
// and RUN.results/skipped.txt; a case that throws is counted as failed (message on stderr).
// Throws InputError when the index cannot be read. Used by adapter_main and `artabpfn verify`.
AdapterSummary run_adapter(const AdapterRun& run, const Implementation& implementation, const std::string& name);

// `program VECTORS RESULTS [--contracts a,b] [--case NAME]... [--quiet]`; returns the exit status
// (0 when every attempted case wrote its result).
int adapter_main(int argc, char** argv, const Implementation& implementation, const std::string& name);

}  // namespace artabpfn::conformance
