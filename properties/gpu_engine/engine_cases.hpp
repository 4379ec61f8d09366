#pragma once
// Random batches of tasks and session options shared by the engine properties
// (engine_properties_test.cpp) and the cluster decode step's (decode_properties_test.cpp).
#include <cstddef>

#include "artabpfn/host_tensor.hpp"
#include "artabpfn/model_weights.hpp"
#include "artabpfn/task_tensors.hpp"
#include "engine/session_options.hpp"
#include "tests/support/random_model.hpp"

namespace artabpfn::test_support {

struct Batch {
  ModelWeights weights;
  TaskTensors tensors;
};

// T tasks padded to the largest sizes; lengths per task; R value sets of y per task.
Batch random_batch(const SmallCase& c, int tasks, int sets);

// Bitwise equality (NaN padding compares equal to itself).
bool same_bits(const HostTensor<float>& a, const HostTensor<float>& b);

// Options whose notices go nowhere.
engine::SessionOptions quiet(engine::AttentionMode mode, std::size_t budget = 0);

}  // namespace artabpfn::test_support
