#include "engine/task_data.hpp"

#include "kernels/cuda_check.hpp"

namespace artabpfn::engine {

TaskData::TaskData(const TaskTensors& t, int d_model, cudaStream_t stream) {
  tasks = static_cast<int>(t.task_count());
  features = static_cast<int>(t.feature_count());
  nt_max = static_cast<int>(t.x_target.dim(1));
  target_len = t.target_len;
  const std::int64_t nc_pad = t.x_context.dim(1);
  std::vector<float> xc, yc, xt(static_cast<std::size_t>(tasks) * nt_max * features, 0.0f);
  std::vector<std::int32_t> rt, cl;
  std::vector<std::int64_t> rs, co;
  for (int i = 0; i < tasks; ++i) {
    const std::int64_t nc = t.context_len[static_cast<std::size_t>(i)];
    rs.push_back(static_cast<std::int64_t>(yc.size()));
    co.push_back(static_cast<std::int64_t>(yc.size()) * d_model);
    cl.push_back(static_cast<std::int32_t>(nc));
    for (std::int64_t j = 0; j < nc; ++j) {
      rt.push_back(i);
      yc.push_back(static_cast<float>(t.y_context.data[static_cast<std::size_t>(i * nc_pad + j)]));
      for (int f = 0; f < features; ++f)
        xc.push_back(static_cast<float>(t.x_context.data[static_cast<std::size_t>((i * nc_pad + j) * features + f)]));
    }
    for (std::int64_t j = 0; j < t.target_len[static_cast<std::size_t>(i)]; ++j)
      for (int f = 0; f < features; ++f) {
        const std::size_t k = static_cast<std::size_t>((std::int64_t(i) * nt_max + j) * features + f);
        xt[k] = static_cast<float>(t.x_target.data[k]);
      }
  }
  context_rows = static_cast<std::int64_t>(yc.size());
  x_context = upload(xc, stream);
  y_context = upload(yc, stream);
  x_target = upload(xt, stream);
  row_task = upload(rt, stream);
  context_len = upload(cl, stream);
  row_start = upload(rs, stream);
  context_offset = upload(co, stream);
  ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(stream));  // the host rows above are freed on return
}

ContextCache::ContextCache(int layers, std::int64_t rows, int d_model) {
  for (int l = 0; l < layers; ++l) {
    k.emplace_back(static_cast<std::size_t>(rows * d_model));
    v.emplace_back(static_cast<std::size_t>(rows * d_model));
  }
}

LayerAttention store_prefill_kv(const float* qkv, ContextCache& cache, int layer, const TaskData& d, int n_heads,
                                int head_dim, cudaStream_t stream) {
  const std::int64_t n = d.context_rows, D = std::int64_t(n_heads) * head_dim;
  float* k = cache.k[std::size_t(layer)].data();
  float* v = cache.v[std::size_t(layer)].data();
  kernels::rows_to_context_blocks(qkv + D, k, d.row_task.data(), d.row_start.data(), d.context_len.data(), n, n_heads,
                                  head_dim, stream, 3 * D);
  kernels::rows_to_context_blocks(qkv + 2 * D, v, d.row_task.data(), d.row_start.data(), d.context_len.data(), n,
                                  n_heads, head_dim, stream, 3 * D);
  return {{qkv, static_cast<int>(n), n_heads, 1, head_dim, 3 * D},
          {k, v, d.context_offset.data(), d.context_len.data(), d.row_task.data()},
          {nullptr, nullptr, 0, 0, kernels::BufferMask::kDecode}};
}

LayerAttention teacher_forcing_attention(const float* qkv, float* k_heads, float* v_heads, const ContextCache& cache,
                                         int layer, const TaskData& d, const TeacherForcingIndex& index,
                                         std::int64_t nt, int n_heads, int head_dim, cudaStream_t stream) {
  const std::int64_t batch = static_cast<std::int64_t>(index.task.size()), L = 2 * nt;
  const std::int64_t D = std::int64_t(n_heads) * head_dim;
  kernels::rows_to_heads(qkv + D, k_heads, batch, int(L), n_heads, head_dim, stream, 3 * D);
  kernels::rows_to_heads(qkv + 2 * D, v_heads, batch, int(L), n_heads, head_dim, stream, 3 * D);
  // The cache and the task index were complete before the pass's first kernel.
  return {{qkv, static_cast<int>(batch), n_heads, int(L), head_dim, 3 * D},
          {cache.k[std::size_t(layer)].data(), cache.v[std::size_t(layer)].data(), d.context_offset.data(),
           d.context_len.data(), index.task.data(), true},
          {k_heads, v_heads, int(L), int(nt), kernels::BufferMask::kTeacherForcing}};
}

TeacherForcingIndex::TeacherForcingIndex(const TaskData& d, const std::vector<std::int32_t>& seq_task,
                                         std::int64_t nt, cudaStream_t stream) {
  const std::int64_t batch = static_cast<std::int64_t>(seq_task.size());
  std::vector<std::int32_t> x_rows(static_cast<std::size_t>(batch * nt)), positions(x_rows.size());
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t j = 0; j < nt; ++j) {
      x_rows[std::size_t(b * nt + j)] = static_cast<std::int32_t>(seq_task[std::size_t(b)] * std::int64_t(d.nt_max) + j);
      positions[std::size_t(b * nt + j)] = static_cast<std::int32_t>(j);
    }
  task = upload(seq_task, stream);
  x_row = upload(x_rows, stream);
  position = upload(positions, stream);
  ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(stream));  // the host rows above are freed on return
}

}  // namespace artabpfn::engine
