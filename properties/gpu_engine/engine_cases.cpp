#include "properties/gpu_engine/engine_cases.hpp"

#include <random>
#include <string>
#include <utility>

#include "artabpfn/random_weights.hpp"
#include "tolerance/bitwise.hpp"

namespace artabpfn::test_support {

Batch random_batch(const SmallCase& c, int tasks, int sets) {
  std::mt19937_64 engine(c.seed);
  Batch b{random_weights(c.config, c.seed), {}};
  const std::int64_t nc_max = c.nc, nt_max = c.nt, f = c.features;
  TaskTensors& t = b.tensors;
  t.x_context = HostTensor<double>({tasks, nc_max, f});
  t.y_context = HostTensor<double>({tasks, nc_max});
  t.x_target = HostTensor<double>({tasks, nt_max, f});
  t.y_target = HostTensor<double>({tasks, sets, nt_max});
  std::normal_distribution<double> n01;
  for (auto* tensor : {&t.x_context, &t.y_context, &t.x_target, &*t.y_target})
    for (double& v : tensor->data) v = n01(engine);
  for (int i = 0; i < tasks; ++i) {
    t.context_len.push_back(i == 0 ? nc_max : std::uniform_int_distribution<std::int64_t>(0, nc_max)(engine));
    t.target_len.push_back(i == 0 ? nt_max : std::uniform_int_distribution<std::int64_t>(1, nt_max)(engine));
  }
  t = validate_task_tensors(std::move(t), "random batch");
  return b;
}

bool same_bits(const HostTensor<float>& a, const HostTensor<float>& b) { return tolerance::bitwise_equal(a.data, b.data); }

engine::SessionOptions quiet(engine::AttentionMode mode, std::size_t budget) {
  return {mode, budget, [](const std::string&) {}};
}

}  // namespace artabpfn::test_support
