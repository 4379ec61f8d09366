#pragma once
// The attention contracts of the conformance vectors (docs/conformance_vectors.md) on inputs given
// from Python, in the vectors' layout:
//   q [B, H, Lq, Dh]; context_k, context_v [T, H, Nc_max, Dh] with context_len [T] and
//   task_of_sample [B]; buffer_k, buffer_v [B, H, C, Dh] with buffer_len [1]; fused_attention's
//   teacher_forcing [1]; merge_states' out1, out2 [N, Dh] and lse1, lse2 [N].
// Outputs: out [B, H, Lq, Dh] and the natural-log lse [B, H, Lq] ([N, Dh] and [N] for the merge),
// computed by reference::attend and reference::merge in T (double: the reference; float: the
// plain float32 implementation the tolerance is measured from).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "artabpfn/host_tensor.hpp"

namespace artabpfn::python {

struct ContractInputs {
  std::map<std::string, HostTensor<double>> values;           // float inputs
  std::map<std::string, std::vector<std::int64_t>> integers;  // lengths, task ids, flags

  const HostTensor<double>& value(const std::string& name) const;  // InputError when absent
  const std::vector<std::int64_t>& integer(const std::string& name) const;
};

using ContractOutputs = std::map<std::string, HostTensor<double>>;

// The contracts computed here (the attention ones and the merge).
const std::vector<std::string>& attention_contracts();

// Checks shapes, lengths and task ids (InputError naming the tensor), then computes.
template <class T>
ContractOutputs attention_contract(const std::string& contract, const ContractInputs& inputs);

// The largest |q.k| / sqrt(Dh) over the keys each query sees (0 for the merge): where it is
// large, the rounding of the scores themselves sets the error (tolerance::kExtremeScoreFactor).
double largest_score(const std::string& contract, const ContractInputs& inputs);

}  // namespace artabpfn::python
