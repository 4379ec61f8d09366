#include "conformance/format.hpp"

#include <algorithm>
#include <cmath>

#include "artabpfn/error.hpp"
#include "tolerance/constants.hpp"

namespace artabpfn::conformance {

const std::vector<ContractInfo>& contracts() {
  // Factors: tolerance/constants.hpp says why; precisions: docs/precisions.md.
  using tolerance::kAttentionFactor;
  using tolerance::kModelJobFactor;
  using enum tolerance::Precision;
  static const std::vector<tolerance::Precision> attention = {kFloat32, kTf32, kBf16, kFp16};
  static const std::vector<tolerance::Precision> products = {kFloat32, kTf32};  // jobs whose error TF32 products set
  static const std::vector<tolerance::Precision> draws = {kFloat32};            // jobs with a discrete draw
  static const std::vector<ContractInfo> table = {
      {"shared_context_attention",
       "softmax(q.k/sqrt(Dh)) v over the context of the sample's task, with the natural-log LSE; (0, -inf) when Nc = 0",
       kAttentionFactor,
       {"q", "context_k", "context_v", "context_len", "task_of_sample"},
       {"out", "lse"},
       false,
       attention},
      {"buffer_attention_decode",
       "attention over the sample's buffer rows 0..buffer_len-1 (every query sees all of them)",
       kAttentionFactor,
       {"q", "buffer_k", "buffer_v", "buffer_len"},
       {"out", "lse"},
       false,
       attention},
      {"buffer_attention_teacher_forcing",
       "attention over the sample's buffer under the teacher-forcing mask: query j < n is buffer j and sees rows "
       "0..j, query n + t is target t and sees rows 0..t-1 (Lq = 2n)",
       kAttentionFactor,
       {"q", "buffer_k", "buffer_v", "buffer_len"},
       {"out", "lse"},
       false,
       attention},
      {"merge_states",
       "lse = logaddexp(lse1, lse2), out = exp(lse1 - lse) out1 + exp(lse2 - lse) out2; two empty parts give (0, -inf)",
       kAttentionFactor,
       {"out1", "lse1", "out2", "lse2"},
       {"out", "lse"},
       false,
       attention},
      {"fused_attention",
       "one softmax over the task's context and the sample's buffer (decode or teacher-forcing mask)",
       kAttentionFactor,
       {"q", "context_k", "context_v", "context_len", "task_of_sample", "buffer_k", "buffer_v", "buffer_len",
        "teacher_forcing"},
       {"out", "lse"},
       false,
       attention},
      {"prefill_kv",
       "per-layer K and V of every context row (docs/model.md: K/V of a row at layer i from its value after LN1)",
       kModelJobFactor,
       {"x_context", "y_context", "context_len"},
       {"keys", "values"},
       true,
       products},
      {"teacher_forcing_density",
       "log p(y_t | context, y_<t) for every target and value set, in one teacher-forcing pass",
       kModelJobFactor,
       {"x_context", "y_context", "context_len", "x_target", "target_len", "y_target"},
       {"logpdf"},
       true,
       products},
      {"forced_ar_density",
       "the same densities along the AR decode path (buffer K/V appended step by step) for the given values",
       kModelJobFactor,
       {"x_context", "y_context", "context_len", "x_target", "target_len", "y_target"},
       {"logpdf"},
       true,
       products},
      {"mixture_parameters",
       "the head's K-component mixture at each final normalised row z: mean, std, log weight",
       kModelJobFactor,
       {"z"},
       {"mean", "std", "log_weight"},
       true,
       products},
      {"sampler",
       "one draw per row of z from the head's mixture: given uniforms and normals (stream 'given') or the Philox "
       "stream of include/artabpfn/random_stream.hpp (stream 'philox'); the value and the component",
       kModelJobFactor,
       {"z", "uniform", "normal", "seed", "task_id", "sample", "step"},
       {"y", "component"},
       true,
       draws},
      {"buffer_kv_append",
       "one decode step t >= 1: buffer t-1 (value y_buffer) joins each sample's buffer K/V at every layer; the cache "
       "after the step",
       kModelJobFactor,
       {"x_target", "step", "y_buffer", "context_keys", "context_values", "buffer_keys_before", "buffer_values_before"},
       {"buffer_keys_after", "buffer_values_after"},
       true,
       products},
      {"sample_sequence",
       "joint samples of every task with the Philox stream (task id = position in the call)",
       kModelJobFactor,
       {"x_context", "y_context", "context_len", "x_target", "target_len", "seed", "samples"},
       {"samples"},
       true,
       draws},
  };
  return table;
}

bool CaseSpec::serves(tolerance::Precision precision) const {
  return std::find(precisions.begin(), precisions.end(), precision) != precisions.end();
}

const ContractInfo& contract(const std::string& name) {
  for (const ContractInfo& c : contracts())
    if (c.name == name) return c;
  std::string names;
  for (const ContractInfo& c : contracts()) names += (names.empty() ? "" : ", ") + c.name;
  throw InputError("unknown contract '" + name + "'; the contracts are: " + names);
}

Tensor Tensor::f32(Shape shape, std::vector<double> values) {
  for (double& v : values) v = static_cast<double>(static_cast<float>(v));
  return Tensor{safetensors::DType::F32, std::move(shape), std::move(values), {}};
}
Tensor Tensor::f64(Shape shape, std::vector<double> values) {
  return Tensor{safetensors::DType::F64, std::move(shape), std::move(values), {}};
}
Tensor Tensor::i64(Shape shape, std::vector<std::int64_t> values) {
  return Tensor{safetensors::DType::I64, std::move(shape), {}, std::move(values)};
}

const CaseSpec* Index::find(const std::string& name) const {
  for (const CaseSpec& c : cases)
    if (c.name == name) return &c;
  return nullptr;
}

const ModelSpec& Index::model(const std::string& name) const {
  for (const ModelSpec& m : models)
    if (m.name == name) return m;
  throw InputError("index.json: case names model '" + name + "', which the index does not list");
}

const Tensor& CaseFile::input(const std::string& name) const {
  for (const auto& [n, t] : inputs)
    if (n == name) return t;
  throw InputError("case file: input tensor '" + name + "' is missing");
}

namespace {

void add_tensor(safetensors::Writer& writer, const std::string& name, const Tensor& t) {
  if (static_cast<std::int64_t>(t.is_integer() ? t.ints.size() : t.values.size()) != t.size())
    throw InputError("conformance: tensor '" + name + "' has " + shape_to_string(t.shape) + " but a different count");
  switch (t.dtype) {
    case safetensors::DType::I64: writer.add(name, HostTensor<std::int64_t>(t.shape, t.ints)); break;
    case safetensors::DType::F32: {
      std::vector<float> f(t.values.begin(), t.values.end());
      writer.add(name, HostTensor<float>(t.shape, std::move(f)));
      break;
    }
    default: writer.add(name, HostTensor<double>(t.shape, t.values)); break;
  }
}

Tensor load_tensor(const safetensors::File& file, const safetensors::TensorInfo& info) {
  Tensor t;
  t.shape = info.shape;
  if (info.dtype == safetensors::DType::I64 || info.dtype == safetensors::DType::I32) {
    t.dtype = safetensors::DType::I64;
    if (info.dtype == safetensors::DType::I64) {
      t.ints = file.to_i64(info.name).data;
    } else {
      const auto bytes = file.bytes(info.name);
      for (std::size_t i = 0; i + 4 <= bytes.size(); i += 4) {
        std::uint32_t w = 0;
        for (int b = 3; b >= 0; --b) w = (w << 8) | static_cast<std::uint32_t>(bytes[i + std::size_t(b)]);
        t.ints.push_back(static_cast<std::int32_t>(w));
      }
    }
  } else {
    t.dtype = info.dtype == safetensors::DType::F64 ? safetensors::DType::F64 : safetensors::DType::F32;
    t.values = file.to_f64(info.name).data;
  }
  return t;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

void write_case_file(const std::filesystem::path& path, const CaseFile& file, const std::string& case_name,
                     const std::string& contract_name) {
  safetensors::Writer writer;
  writer.set_metadata("format", kIndexSchema);
  writer.set_metadata("schema_version", std::to_string(kIndexSchemaVersion));
  writer.set_metadata("case", case_name);
  writer.set_metadata("contract", contract_name);
  for (const auto& [name, t] : file.inputs) add_tensor(writer, name, t);
  for (const auto& [name, t] : file.expected) add_tensor(writer, kExpectedPrefix + name, t);
  for (const auto& [name, t] : file.multiprecision) add_tensor(writer, kMultiprecisionPrefix + name, t);
  writer.write(path);
}

CaseFile read_case_file(const std::filesystem::path& path) {
  const safetensors::File file = safetensors::File::read(path);
  CaseFile out;
  for (const safetensors::TensorInfo& info : file.tensors()) {
    if (starts_with(info.name, kExpectedPrefix))
      out.expected[info.name.substr(std::string(kExpectedPrefix).size())] = load_tensor(file, info);
    else if (starts_with(info.name, kMultiprecisionPrefix))
      out.multiprecision[info.name.substr(std::string(kMultiprecisionPrefix).size())] = load_tensor(file, info);
    else
      out.inputs.emplace_back(info.name, load_tensor(file, info));
  }
  return out;
}

void write_result_file(const std::filesystem::path& path, const ResultFile& result) {
  safetensors::Writer writer;
  for (const auto& [name, t] : result) add_tensor(writer, name, t);
  writer.write(path);
}

ResultFile read_result_file(const std::filesystem::path& path) {
  const safetensors::File file = safetensors::File::read(path);
  ResultFile out;
  for (const safetensors::TensorInfo& info : file.tensors()) out[info.name] = load_tensor(file, info);
  return out;
}

}  // namespace artabpfn::conformance
