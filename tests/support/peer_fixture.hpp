#pragma once
// The peer parity fixtures (fixtures/peer/, see its README): weights, task inputs and the
// float64 results of the public PyTorch implementation.
#include <algorithm>
#include <cmath>
#include <cstdint>
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

// The largest per-target |teacher-forcing log density - the peer's float64 tf_logpdf| of an
// implementation: logpdf(task, y) gives task's [Nt] log densities of values y (any scalar).
template <class Logpdf>
double tf_error(const PeerFixture& f, Logpdf&& logpdf) {
  double error = 0;
  for (std::size_t b = 0; b < f.tasks.size(); ++b) {
    const auto got = logpdf(f.tasks[b], f.y_target[b]);
    const std::vector<double> expected = f.expected("tf_logpdf", std::int64_t(b));
    for (std::size_t t = 0; t < expected.size(); ++t)
      error = std::max(error, std::abs(double(got(Eigen::Index(t))) - expected[t]));
  }
  return error;
}

// The yardstick of the float32 parity bounds: tf_error of the plain float32 CPU implementation
// (reference<float>).
double plain_float32_tf_error(const PeerFixture& f);

}  // namespace artabpfn::test_support
