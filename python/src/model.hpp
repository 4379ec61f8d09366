#pragma once
// The model object of artabpfn._core: weights loaded and validated once, shared by the jobs
// (model.cpp) and the reference's model jobs (reference.cpp).
#include <string>
#include <vector>

#include "artabpfn/model_weights.hpp"

namespace artabpfn::python {

struct Model {
  ModelWeights weights;
  std::vector<std::string> notices;  // what loading said (an upcast dtype, a stripped name prefix)
};

}  // namespace artabpfn::python
