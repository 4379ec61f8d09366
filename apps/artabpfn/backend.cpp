#include "backend.hpp"

#include <fmt/format.h>

#include "reference_backend.hpp"
#if ARTABPFN_HAS_ENGINE
#include "cuda_backend.hpp"
#include "kernels/device.hpp"
#endif

namespace artabpfn::cli {

std::string resolve_backend(const JobOptions& options) {
  if (options.backend != "cuda") return options.backend;
#if ARTABPFN_HAS_ENGINE
  const std::string reason = kernels::gpu_unavailable_reason();
  if (reason.empty()) return "cuda";
#else
  const std::string reason = "this build has no CUDA engine";
#endif
  fmt::print(stderr, "artabpfn: no usable CUDA GPU ({}); running the CPU reference (double) instead\n", reason);
  return "reference";
}

Table run_density(const JobOptions& options, const ModelWeights& weights, const TaskTensors& tasks) {
  const std::string& backend = options.backend;
#if ARTABPFN_HAS_ENGINE
  if (backend == "cuda") return cuda_density(weights, tasks, options.attention, options.precision);
#endif
  return reference_density(weights, tasks, parse_reference_backend(backend));
}

Table run_samples(const JobOptions& options, const ModelWeights& weights, const TaskTensors& tasks,
                  std::int64_t samples, std::uint64_t seed) {
  const std::string& backend = options.backend;
#if ARTABPFN_HAS_ENGINE
  if (backend == "cuda") return cuda_samples(weights, tasks, samples, seed, options.attention, options.precision);
#endif
  return reference_samples(weights, tasks, samples, seed, parse_reference_backend(backend));
}

}  // namespace artabpfn::cli
