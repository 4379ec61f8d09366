#pragma once
// The peer parity fixtures (fixtures/peer/, see its README): weights, task inputs and the
// float64 results of the public PyTorch implementation.
#include <string>
#include <vector>

#include "artabpfn/model_weights.hpp"
#include "artabpfn/safetensors.hpp"
#include "artabpfn/task_tensors.hpp"
#include "reference/task.hpp"

namespace artabpfn::test_support {

struct PeerFixture {
  std::string name;  // "paper" or "shared"
  ModelWeights weights;
  safetensors::File io;
  TaskTensors task_tensors;
  std::vector<reference::TaskInputs> tasks;
  std::vector<Eigen::VectorXd> y_target;  // per task, [Nt]

  // Row `task` of an io tensor [B, ...] flattened (e.g. tf_logpdf [B, Nt] -> Nt values).
  std::vector<double> expected(const std::string& tensor, std::int64_t task) const;
};

PeerFixture load_peer_fixture(const std::string& name);

// The yardstick of the float32 parity bounds: the largest per-target |teacher-forcing log density
// of the plain float32 CPU implementation (reference<float>) - the peer's float64 tf_logpdf|.
double plain_float32_tf_error(const PeerFixture& f);

}  // namespace artabpfn::test_support
