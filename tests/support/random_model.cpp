#include "tests/support/random_model.hpp"

#include <cmath>

namespace artabpfn::test_support {
reference::TaskInputs random_task(std::mt19937_64& engine, Eigen::Index nc, Eigen::Index nt, Eigen::Index features) {
  std::normal_distribution<double> n01;
  reference::TaskInputs task;
  task.x_context = reference::InputMatrix::NullaryExpr(nc, features, [&] { return n01(engine); });
  task.y_context = Eigen::VectorXd::NullaryExpr(nc, [&] { return n01(engine); });
  task.x_target = reference::InputMatrix::NullaryExpr(nt, features, [&] { return n01(engine); });
  return task;
}

Eigen::VectorXd random_values(std::mt19937_64& engine, Eigen::Index n) {
  std::normal_distribution<double> n01;
  return Eigen::VectorXd::NullaryExpr(n, [&] { return n01(engine); });
}

rc::Gen<ModelConfig> small_config() {
  return rc::gen::apply(
      [](int heads, int head_dim, int layers, int d_ff, int buffer, int components) {
        ModelConfig c;
        c.n_heads = heads;
        c.d_model = heads * head_dim;
        c.n_layers = layers;
        c.d_ff = d_ff;
        c.buffer_size = buffer;
        c.num_components = components;
        return c;
      },
      rc::gen::inRange(1, 4), rc::gen::inRange(1, 8), rc::gen::inRange(1, 3), rc::gen::inRange(1, 12),
      rc::gen::inRange(1, 5), rc::gen::inRange(2, 5));
}

rc::Gen<SmallCase> small_case() {
  return rc::gen::apply(
      [](ModelConfig config, std::uint64_t seed, int nc, int nt, int features) {
        return SmallCase{config, seed, nc, nt, features};
      },
      small_config(), rc::gen::arbitrary<std::uint64_t>(), rc::gen::inRange(0, 7), rc::gen::inRange(1, 10),
      rc::gen::inRange(1, 4));
}

void showValue(const SmallCase& c, std::ostream& os) {
  os << c.config.to_string() << " seed=" << c.seed << " Nc=" << c.nc << " Nt=" << c.nt << " C=" << c.features;
}

}  // namespace artabpfn::test_support
