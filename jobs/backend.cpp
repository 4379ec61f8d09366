#include "jobs/backend.hpp"

#include <fmt/format.h>

#include "jobs/cpu_backend.hpp"
#include "jobs/reference_backend.hpp"
#if ARTABPFN_HAS_ENGINE
#include "jobs/cuda_backend.hpp"
#include "kernels/device.hpp"
#endif

namespace artabpfn::jobs {

std::string gpu_unavailable() {
#if ARTABPFN_HAS_ENGINE
  return kernels::gpu_unavailable_reason();
#else
  return "this build has no CUDA engine";
#endif
}

Combination resolve_backend(const Combination& asked, const NoticeSink& notices) {
  if (asked.backend != "cuda") return asked;
  const std::string reason = gpu_unavailable();
  if (reason.empty()) return asked;
  (notices ? notices : stderr_notices())(
      fmt::format("no usable CUDA GPU ({}); running the CPU reference (double) instead", reason));
  return check_combination(std::string(asked.job), "reference", "", "");
}

Table run_density(const Combination& settings, const ModelWeights& weights, const TaskTensors& tasks,
                  const ProgressFn& progress) {
  if (settings.backend == "cpu") return cpu_density(weights, tasks, std::string(settings.precision), progress);
#if ARTABPFN_HAS_ENGINE
  if (settings.backend == "cuda")
    return cuda_density(weights, tasks, std::string(settings.attention), std::string(settings.precision), progress);
#endif
  return reference_density(weights, tasks, parse_reference_backend(std::string(settings.backend)), progress);
}

Table run_samples(const Combination& settings, const ModelWeights& weights, const TaskTensors& tasks,
                  std::int64_t samples, std::uint64_t seed, const ProgressFn& progress) {
  if (settings.backend == "cpu")
    return cpu_samples(weights, tasks, samples, seed, std::string(settings.precision), progress);
#if ARTABPFN_HAS_ENGINE
  if (settings.backend == "cuda")
    return cuda_samples(weights, tasks, samples, seed, std::string(settings.attention), std::string(settings.precision),
                        progress);
#endif
  return reference_samples(weights, tasks, samples, seed, parse_reference_backend(std::string(settings.backend)),
                           progress);
}

double backend_bytes_per_value(const Combination& settings) {
  if (settings.backend == "cuda") return sizeof(float);
  if (settings.backend == "cpu") return cpu_bytes_per_value();
  return reference_bytes_per_value(parse_reference_backend(std::string(settings.backend)));
}

}  // namespace artabpfn::jobs
