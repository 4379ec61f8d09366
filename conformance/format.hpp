#pragma once
// Conformance vectors: the on-disk format (docs/conformance_vectors.md) as plain C++ types.
//
// A vectors directory holds index.json, one safetensors file per case and one weights file per
// model. A case file holds the contract's inputs under their own names, the double-precision
// reference outputs as "expected.<output>" (F64, or I64 for integer outputs) and, where the
// 50-digit reference was run and differs from double, "multiprecision.<output>". The index names
// each case's contract, shapes, seed, the precisions it serves and, per output and precision, the
// tolerance frozen when the vectors were generated: limit = factor x (max error of the plain
// implementation in that precision on this case) + floor. A results directory holds one file per
// case with the same name and only the output tensors, any float dtype (I64 for integer outputs).
//
// Only conformance/index_json.cpp includes nlohmann-json; everything else uses these types.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "artabpfn/host_tensor.hpp"
#include "artabpfn/model_config.hpp"
#include "artabpfn/safetensors.hpp"
#include "tolerance/precision.hpp"

namespace artabpfn::conformance {

// Version 2: a tolerance per precision ("tolerances") and the precisions a case serves; version 1
// (one float32 "tolerance") is still read, as float32 only.
inline constexpr int kIndexSchemaVersion = 2;
inline constexpr const char* kIndexSchema = "artabpfn-conformance-index";
// Version 2: the precision checked, "plain_error" (was "float32_error"), "not applicable" cases.
inline constexpr int kReportSchemaVersion = 2;
inline constexpr const char* kReportSchema = "artabpfn-conformance-report";
inline constexpr const char* kExpectedPrefix = "expected.";
inline constexpr const char* kMultiprecisionPrefix = "multiprecision.";
// In a results directory: the cases the implementation declined, one name per line.
inline constexpr const char* kSkippedList = "skipped.txt";

// What a contract is, the precisions it is judged in and how its results are held to the
// reference (the rule of tolerance/rule.hpp, with tolerance::conformance_floor).
struct ContractInfo {
  std::string name;
  std::string description;
  double factor;  // times the plain implementation's error (cases may state a larger one, with a reason)
  std::vector<std::string> inputs, outputs;
  bool uses_model;
  std::vector<tolerance::Precision> precisions;  // docs/precisions.md says why each serves these
};

// Every contract, in a fixed order.
const std::vector<ContractInfo>& contracts();
const ContractInfo& contract(const std::string& name);  // throws InputError for an unknown name

// A tensor of a case or result file: floating values as double (F32 inputs are exact), or int64.
struct Tensor {
  safetensors::DType dtype = safetensors::DType::F64;
  Shape shape;
  std::vector<double> values;      // F32 / F64
  std::vector<std::int64_t> ints;  // I64

  bool is_integer() const { return dtype == safetensors::DType::I64; }
  std::int64_t size() const { return element_count(shape); }
  static Tensor f32(Shape shape, std::vector<double> values);  // values must be floats
  static Tensor f64(Shape shape, std::vector<double> values);
  static Tensor i64(Shape shape, std::vector<std::int64_t> values);
};

// One output's tolerance in one precision.
struct Tolerance {
  double factor = 0.0;
  double plain_error = 0.0;  // max |plain - expected| over compared elements (the largest over the precision's arithmetics)
  double floor = 0.0;
  double limit = 0.0;        // factor * plain_error + floor; 0 for exact (integer) outputs
  std::map<std::string, double> plain_errors;  // per arithmetic where the precision has several (tf32: tf32-rn, tf32-rz)
};

struct OutputSpec {
  std::string name;
  std::string dtype;  // "F64" or "I64" in the case file
  Shape shape;
  std::map<tolerance::Precision, Tolerance> tolerances;  // one per precision the case serves
  std::int64_t compared = 0;  // elements compared (NaN in expected, or -1 for I64, means "not compared")
  double max_abs_expected = 0.0;
  bool multiprecision = false;               // "multiprecision.<name>" is in the file
  double multiprecision_minus_double = 0.0;  // max |mp - double| over compared elements
};

struct CaseSpec {
  std::string name;      // "<contract>.<label>", unique
  std::string contract;
  std::string file;      // file name in the vectors (and results) directory
  std::string model;     // model name (ModelSpec::name) or empty
  std::uint64_t seed = 0;
  std::vector<std::string> families;  // edge-case families the case covers
  std::string note;                   // why the case exists, or why its factor differs
  std::map<std::string, Shape> shapes;             // every input tensor's shape
  std::map<std::string, std::int64_t> params;      // integer parameters (sizes, steps)
  std::map<std::string, std::string> labels;       // string parameters (mask, stream, input_grid)
  std::vector<tolerance::Precision> precisions;    // the precisions it serves (its contract's)
  std::vector<OutputSpec> outputs;

  bool serves(tolerance::Precision precision) const;
};

struct ModelSpec {
  std::string name;
  std::string file;
  ModelConfig config;
};

struct Index {
  int schema_version = kIndexSchemaVersion;
  std::string set;        // "quick" or "full"
  std::uint64_t seed = 0;
  std::string generator;  // "artabpfn <version>"
  std::string random_stream;
  std::vector<ModelSpec> models;
  std::vector<CaseSpec> cases;

  const CaseSpec* find(const std::string& name) const;
  const ModelSpec& model(const std::string& name) const;
};

void write_index(const Index& index, const std::filesystem::path& path);
Index read_index(const std::filesystem::path& path);  // throws InputError naming the problem

// A case file's contents.
struct CaseFile {
  std::vector<std::pair<std::string, Tensor>> inputs;  // in file order
  std::map<std::string, Tensor> expected;              // by output name (prefix removed)
  std::map<std::string, Tensor> multiprecision;

  const Tensor& input(const std::string& name) const;  // throws InputError when absent
};

void write_case_file(const std::filesystem::path& path, const CaseFile& file, const std::string& case_name,
                     const std::string& contract);
CaseFile read_case_file(const std::filesystem::path& path);

// A result file: output name -> tensor.
using ResultFile = std::map<std::string, Tensor>;
void write_result_file(const std::filesystem::path& path, const ResultFile& result);
ResultFile read_result_file(const std::filesystem::path& path);

}  // namespace artabpfn::conformance
