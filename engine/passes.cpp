#include "engine/passes.hpp"

#include "kernels/cuda_check.hpp"

namespace artabpfn::engine {

ContextCache prefill(LayerRunner<>& run, const TaskData& d) {
  const ModelConfig& c = run.config();
  const cudaStream_t s = run.stream();
  const std::int64_t n = d.context_rows;
  ContextCache cache(c.n_layers, n, c.d_model);
  if (n == 0) return cache;
  Workspace w(n, c, false);
  embed_context_rows(run.model().embedding(), d, w.residual.data(), s);
  run.layers(w, w.residual.data(), n, [&](int l, Workspace& ws) {
    const LayerAttention job = store_prefill_kv(ws.qkv.data(), cache, l, d, c.n_heads, c.head_dim(), s);
    kernels::shared_context_attention(job.q, job.context, {ws.attention_out.data(), ws.attention_lse.data(), true}, s);
  });
  ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(s));  // w is freed on return
  return cache;
}

void teacher_forcing_pass(LayerRunner<>& run, const TaskData& d, const ContextCache& cache,
                          const std::vector<std::int32_t>& seq_task, const float* y, std::int64_t nt, Workspace& w) {
  const ModelConfig& c = run.config();
  const cudaStream_t s = run.stream();
  const std::int64_t batch = static_cast<std::int64_t>(seq_task.size()), L = 2 * nt, n = batch * L;
  const int D = c.d_model;
  const TeacherForcingIndex index(d, seq_task, nt, s);
  embed_teacher_forcing_rows(run.model().embedding(), d, index, y, nt, w.residual.data(), s);
  run.layers(w, w.residual.data(), n, [&](int l, Workspace& ws) {
    const LayerAttention job = teacher_forcing_attention(ws.qkv.data(), ws.buffer_k_heads.data(), ws.buffer_v_heads.data(), cache, l, d,
                                                         index, nt, c.n_heads, c.head_dim(), s);
    run.attend(job.q, job.context, job.buffer, ws);
  });
  kernels::gather_rows(w.residual.data(), w.head_rows.data(), batch * nt, D, nt, L, nt, s);
  run.head(w.head_rows.data(), w.hidden.data(), w.mixture.data(), batch * nt);
  ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(s));  // index is freed on return
}

}  // namespace artabpfn::engine
