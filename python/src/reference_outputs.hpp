#pragma once
// Contracts on inputs given from Python, in the conformance vectors' layout
// (docs/conformance_vectors.md): the double reference's outputs through the computations the
// vector generator uses (conformance/plain/attention.hpp, model_jobs.hpp), so that they equal the
// vectors' expected outputs bit for bit. The attention contracts and the merge, and the model jobs
// whose every output is compared (prefill_kv, teacher_forcing_density, forced_ar_density,
// mixture_parameters).
#include <string>
#include <utility>
#include <vector>

#include "artabpfn/model_weights.hpp"
#include "conformance/format.hpp"

namespace artabpfn::python {

// The contracts computed here: the attention ones and the merge; the model jobs.
const std::vector<std::string>& attention_contracts();
const std::vector<std::string>& model_contracts();

struct ReferenceOutputs {
  std::vector<std::pair<std::string, conformance::Tensor>> outputs;  // "out", then "lse"
  double largest_score = 0.0;  // max |q.k| / sqrt(Dh) over the keys each query sees (0 for the merge)
};

// Throws InputError for another contract, inputs that do not fit its layout, or a model job
// without weights.
ReferenceOutputs reference_outputs(const std::string& contract, const conformance::CaseFile& inputs,
                                   const ModelWeights* weights = nullptr);

}  // namespace artabpfn::python
