#include "engine/memory_plan.hpp"

#include <cuda_runtime.h>
#include <fmt/format.h>

#include <algorithm>

#include "engine/workspace.hpp"
#include "kernels/cuda_check.hpp"

namespace artabpfn::engine {

std::int64_t teacher_forcing_floats_per_sequence(const ModelConfig& c, std::int64_t nt) {
  return 2 * nt * (Workspace::floats_per_row(c) + 2 * c.d_model) + 8 * nt;
}

std::int64_t decode_floats_per_sequence(const ModelConfig& c, int nt_max) {
  return std::int64_t(c.n_layers) * 2 * std::max(nt_max, 1) * c.d_model + 2 * Workspace::floats_per_row(c) +
         2 * nt_max + 8;
}

std::int64_t reencode_floats_per_sequence(const ModelConfig& c, std::int64_t nc, std::int64_t nt) {
  return nc * (Workspace::floats_per_row(c) + 2 * c.n_layers * c.d_model) + teacher_forcing_floats_per_sequence(c, nt);
}

std::int64_t plan_chunk(const SessionOptions& options, const char* job, std::int64_t sequences,
                        std::int64_t floats_per_sequence) {
  std::size_t budget = options.memory_budget_bytes;
  if (budget == 0) {
    std::size_t free_bytes = 0, total = 0;
    ARTABPFN_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
    budget = free_bytes / 10 * 9;
  }
  const std::int64_t per = floats_per_sequence * std::int64_t(sizeof(float));
  const std::int64_t fit = std::max<std::int64_t>(1, std::int64_t(budget) / per);
  const std::int64_t chunk = std::max<std::int64_t>(1, std::min(sequences, fit));  // 1 where there is nothing to run
  const double gib = double(per) * double(sequences) / double(1 << 30);
  const std::int64_t chunks = (sequences + chunk - 1) / chunk;
  if (chunks > 1) {
    const NoticeSink notice = options.notices ? options.notices : stderr_notices();
    notice(fmt::format("engine: {}: {} sequences need {:.2f} GiB of device memory, {:.2f} GiB available: running {} "
                       "chunks of up to {}",
                       job, sequences, gib, double(budget) / double(1 << 30), chunks, chunk));
  }
  return chunk;
}

}  // namespace artabpfn::engine
