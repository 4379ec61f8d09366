#include "jobs/cuda_backend.hpp"

#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include "artabpfn/error.hpp"
#include "engine/session.hpp"
#include "kernels/device.hpp"
#include "jobs/progress.hpp"

namespace artabpfn::jobs {
namespace {

// [T, R, Nt] with NaN past each task's count -> per task, R rows of target_len values.
Table to_table(const HostTensor<float>& t, const TaskTensors& tasks) {
  Table out(static_cast<std::size_t>(t.dim(0)));
  for (std::int64_t i = 0; i < t.dim(0); ++i)
    for (std::int64_t r = 0; r < t.dim(1); ++r) {
      const auto first = t.data.begin() + (i * t.dim(1) + r) * t.dim(2);
      out[std::size_t(i)].emplace_back(first, first + tasks.target_len[std::size_t(i)]);
    }
  return out;
}

}  // namespace

std::string cuda_versions() {
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  const int driver = kernels::driver_cuda_version();
  return fmt::format("CUDA runtime {}, {}", kernels::cuda_version_text(runtime),
                     driver == 0 ? "no NVIDIA driver found"
                                 : "driver supports CUDA " + kernels::cuda_version_text(driver));
}

Table cuda_density(const ModelWeights& weights, const TaskTensors& tasks, const std::string& attention,
                   const std::string& precision, const ProgressFn& progress) {
  const engine::DeviceModel model(weights);
  engine::SessionOptions options{engine::parse_attention_mode(attention), 0, {}};
  options.precision = engine::parse_precision(precision);
  options.progress = progress ? progress : terminal_progress("density", "steps");  // the reencode baseline's steps
  engine::Session session(model, options);
  return to_table(session.evaluate_joint_density(tasks), tasks);
}

Table cuda_samples(const ModelWeights& weights, const TaskTensors& tasks, std::int64_t samples, std::uint64_t seed,
                   const std::string& attention, const std::string& precision, const ProgressFn& progress) {
  const engine::DeviceModel model(weights);
  engine::SessionOptions options{engine::parse_attention_mode(attention), 0, {}};
  options.precision = engine::parse_precision(precision);
  options.progress = progress ? progress : terminal_progress("sample", "steps");  // AR steps over all chunks
  engine::Session session(model, options);
  return to_table(session.sample_sequence(tasks, samples, seed), tasks);
}

}  // namespace artabpfn::jobs
