#include "tests/support/peer_fixture.hpp"

#include <algorithm>
#include <cmath>

#include "artabpfn/weights_loader.hpp"
#include "reference/reference.hpp"
#include "reference/task_batch.hpp"
#include "tests/support/fixtures_dir.hpp"

namespace artabpfn::test_support {

std::vector<double> PeerFixture::expected(const std::string& tensor, std::int64_t task) const {
  const HostTensor<double> t = io.to_f64(tensor);
  const std::int64_t per_task = element_count(t.shape) / t.dim(0);
  const auto first = t.data.begin() + static_cast<std::ptrdiff_t>(task * per_task);
  return std::vector<double>(first, first + static_cast<std::ptrdiff_t>(per_task));
}

PeerFixture load_peer_fixture(const std::string& name) {
  const auto dir = fixtures_dir() / "peer";
  PeerFixture f{name, load_weights(dir / (name + "_weights.safetensors"), {std::nullopt, [](const std::string&) {}}),
                safetensors::File::read(dir / (name + "_io.safetensors")), {}, {}, {}};
  f.task_tensors = load_task_tensors(dir / (name + "_io.safetensors"));
  f.tasks = reference::split_tasks(f.task_tensors);
  for (const reference::InputMatrix& y : reference::split_target_values(f.task_tensors))
    f.y_target.push_back(y.row(0).transpose());
  return f;
}

double plain_float32_tf_error(const PeerFixture& f) {
  const auto p32 = reference::ModelParams<float>::from_weights(f.weights);
  return tf_error(f, [&p32](const reference::TaskInputs& task, const Eigen::VectorXd& y) {
    return reference::teacher_forcing(p32, task, y).logpdf;
  });
}

}  // namespace artabpfn::test_support
