#pragma once
// One task of random N(0,1) values for the engine benchmarks: Nc context rows, Nt targets,
// 2 features, and `value_sets` sets of y_target (none when 0).
#include <random>

#include "artabpfn/task_tensors.hpp"

namespace artabpfn::bench {

inline TaskTensors random_task(std::int64_t nc, std::int64_t nt, std::int64_t value_sets, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> n01;
  TaskTensors t;
  t.x_context = HostTensor<double>({1, nc, 2});
  t.y_context = HostTensor<double>({1, nc});
  t.x_target = HostTensor<double>({1, nt, 2});
  if (value_sets > 0) t.y_target = HostTensor<double>({1, value_sets, nt});
  for (auto* tensor : {&t.x_context, &t.y_context, &t.x_target})
    for (double& v : tensor->data) v = n01(engine);
  if (t.y_target)
    for (double& v : t.y_target->data) v = n01(engine);
  return validate_task_tensors(std::move(t), "bench");
}

}  // namespace artabpfn::bench
