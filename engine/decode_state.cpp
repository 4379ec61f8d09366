#include "engine/decode_state.hpp"

#include <algorithm>

#include "engine/sequences.hpp"
#include "kernels/cuda_check.hpp"

namespace artabpfn::engine {

DecodeState::DecodeState(const ModelConfig& c, const TaskData& d, std::int64_t first, std::int64_t batch_,
                         std::int64_t per_task, bool sample_, std::uint64_t seed_, const std::vector<float>& given,
                         cudaStream_t stream)
    : batch(batch_), cap(std::max(d.nt_max, 1)), sample(sample_), seed(seed_), step(1), w(2 * batch_, c, false) {
  task_host = sequence_tasks(first, batch, per_task);
  std::vector<std::int32_t> base(task_host.size());
  std::vector<std::uint32_t> tid(task_host.size()), sidx(task_host.size());
  for (std::size_t b = 0; b < task_host.size(); ++b) {
    base[b] = static_cast<std::int32_t>(std::int64_t(task_host[b]) * d.nt_max);
    tid[b] = static_cast<std::uint32_t>(task_host[b]);
    sidx[b] = static_cast<std::uint32_t>((first + std::int64_t(b)) % per_task);
  }
  task = upload(task_host, stream);
  x_base = upload(base, stream);
  task_id = upload(tid, stream);
  sample_index = upload(sidx, stream);
  values = sample ? kernels::DeviceBuffer<float>(static_cast<std::size_t>(d.nt_max * batch)) : upload(given, stream);
  logp = kernels::DeviceBuffer<float>(sample ? 0 : static_cast<std::size_t>(d.nt_max * batch));
  for (int l = 0; l < c.n_layers; ++l) {
    kb.emplace_back(static_cast<std::size_t>(batch) * c.n_heads * cap * c.head_dim());
    vb.emplace_back(static_cast<std::size_t>(batch) * c.n_heads * cap * c.head_dim());
  }
  ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(stream));  // the host arrays above are freed on return
}

}  // namespace artabpfn::engine
