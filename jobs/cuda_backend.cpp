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

std::string cuda_version(int version) { return fmt::format("{}.{}", version / 1000, version % 1000 / 10); }

int driver_version() {
  int driver = 0;  // 0: no driver installed (the runtime's documented answer)
  return cudaDriverGetVersion(&driver) == cudaSuccess ? driver : 0;
}

}  // namespace

std::string cuda_unavailable_reason() {
  const std::string reason = kernels::gpu_unavailable_reason();
  if (reason.empty()) return reason;
  return driver_version() == 0 ? "no NVIDIA driver found" : reason;
}

std::string cuda_versions() {
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  const int driver = driver_version();
  return fmt::format("CUDA runtime {}, {}", cuda_version(runtime),
                     driver == 0 ? "no NVIDIA driver found" : "driver supports CUDA " + cuda_version(driver));
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
