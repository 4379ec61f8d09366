#pragma once
// The attention contracts and the merge on inputs given from Python, in the conformance vectors'
// layout (docs/conformance_vectors.md): the double reference's outputs through the traversal the
// vector generator uses (conformance/plain/attention.hpp), so that they equal the vectors'
// expected outputs bit for bit.
#include <string>
#include <utility>
#include <vector>

#include "conformance/format.hpp"

namespace artabpfn::python {

// The contracts computed here: the attention ones and the merge.
const std::vector<std::string>& attention_contracts();

struct ReferenceOutputs {
  std::vector<std::pair<std::string, conformance::Tensor>> outputs;  // "out", then "lse"
  double largest_score = 0.0;  // max |q.k| / sqrt(Dh) over the keys each query sees (0 for the merge)
};

// Throws InputError for another contract or inputs that do not fit its layout.
ReferenceOutputs reference_outputs(const std::string& contract, const conformance::CaseFile& inputs);

}  // namespace artabpfn::python
