#include "engine/decode_step.hpp"

#include <optional>
#include <span>
#include <vector>

#include "engine/decode_plan.hpp"
#include "kernels/decode.hpp"
#include "kernels/head.hpp"

namespace artabpfn::engine {

namespace {

// The cluster step's arguments (all layers of a decode step in one launch, bitwise the same as
// the per-layer launches with fused attention) for st's samples [0, args.batch), or nothing
// (clustered_samples, or unaligned memory).
std::optional<kernels::ClusterDecodeArgs> cluster_step(const DeviceModel& model, const SessionOptions& options,
                                                       const TaskData& d, const ContextCache& cache, DecodeState& st) {
  const ModelConfig& c = model.config();
  const std::int64_t samples = clustered_samples(options, c, st.task_host);
  if (samples == 0) return std::nullopt;
  kernels::ClusterDecodeArgs a;
  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = model.layer(l);
    const std::size_t i = static_cast<std::size_t>(l);
    a.layers[l] = {L.feature,       L.qkv,           L.out,          L.ff_in,        L.ff_in_bias,
                   L.ff_out,        L.ff_out_bias,   L.norm1_weight, L.norm1_bias,   L.norm2_weight,
                   L.norm2_bias,    L.norm3_weight,  L.norm3_bias,   cache.k[i].data(), cache.v[i].data(),
                   st.kb[i].data(), st.vb[i].data()};
  }
  a.n_layers = c.n_layers;
  a.x = st.w.residual.data();
  a.batch = samples;
  a.context_offset = d.context_offset.data();
  a.context_len = d.context_len.data();
  a.task_of_sample = st.task.data();
  a.capacity = st.cap;
  a.step = st.step.data();
  a.d_model = c.d_model;
  a.n_heads = c.n_heads;
  a.d_ff = c.d_ff;
  if (!kernels::cluster_decode_aligned(a)) return std::nullopt;
  return a;
}

// The per-layer launches of a decode step's layers for st's samples [first, first + count) on
// run's stream: their rows of st.w.residual, st.w's other buffers as scratch.
template <class Marks>
void layered_step(LayerRunner<Marks>& run, const TaskData& d, const ContextCache& cache, DecodeState& st,
                  std::int64_t first, std::int64_t count) {
  const ModelConfig& c = run.config();
  const int H = c.n_heads, Dh = c.head_dim(), D = c.d_model;
  const std::int64_t buffer_offset = first * H * st.cap * Dh;  // [B, H, capacity, Dh] caches
  const std::int32_t* task = st.task.data() + first;
  int* step = st.step.data();
  // Buffer t-1's K/V join the cache after each layer's q|k|v, before its attention (nothing at t = 0).
  std::vector<kernels::KVAppend> appends;
  for (int l = 0; l < c.n_layers; ++l)
    appends.push_back({st.kb[std::size_t(l)].data() + buffer_offset, st.vb[std::size_t(l)].data() + buffer_offset,
                       st.cap, step, H, Dh});
  run.layers(st.w, st.w.residual.data() + first * 2 * D, 2 * count, [&](int l, Workspace& ws) {
    const kernels::QueryBlock q{ws.qkv.data(), static_cast<int>(count), H, 2, Dh, 3 * D};
    // The cache (prefill) and st.task (the call's setup) were complete before the step began.
    const kernels::ContextKV ctx{cache.k[std::size_t(l)].data(), cache.v[std::size_t(l)].data(),
                                 d.context_offset.data(), d.context_len.data(), task, true};
    // Both rows of step t see buffer rows 0..t-1: the length is t, read from device memory.
    const kernels::BufferKV buf{st.kb[std::size_t(l)].data() + buffer_offset,
                                st.vb[std::size_t(l)].data() + buffer_offset, st.cap, st.cap,
                                kernels::BufferMask::kDecode, step};
    run.attend(q, ctx, buf, ws);
  }, appends.data());
}

}  // namespace

template <class Marks>
void decode_step(LayerRunner<Marks>& run, const TaskData& d, const ContextCache& cache, DecodeState& st) {
  const DeviceModel& model = run.model();
  const cudaStream_t s = run.stream();
  const int D = run.config().d_model;
  const std::int64_t batch = st.batch;
  Workspace& w = st.w;
  int* step = st.step.data();
  run.mark(Stage::kEmbed);
  kernels::embed_decode_step(model.embedding(), d.x_target.data(), st.x_base.data(), d.features, st.values.data(),
                             step, batch, w.residual.data(), s);
  const std::optional<kernels::ClusterDecodeArgs> clusters = cluster_step(model, run.options(), d, cache, st);
  const std::int64_t clustered = clusters ? clusters->batch : 0;
  const std::span<const std::int32_t> clustered_tasks(st.task_host.data(), static_cast<std::size_t>(clustered));
  if (clustered == 0) {
    layered_step(run, d, cache, st, 0, batch);
  } else if (clustered == batch) {
    kernels::cluster_decode_layers(*clusters, clustered_tasks, s);
  } else {  // the clusters' launch first, so that its blocks find their SMs free
    const cudaStream_t side = st.side.fork(s);
    kernels::cluster_decode_layers(*clusters, clustered_tasks, s);
    LayerRunner<> beside(model, run.options(), side, /*fuse_epilogues=*/false);
    layered_step(beside, d, cache, st, clustered, batch - clustered);
    st.side.join(s);
  }
  run.mark(Stage::kHead);
  kernels::gather_rows(w.residual.data(), w.head_rows.data(), batch, D, 1, 2, 1, s);
  run.head(w.head_rows.data(), w.hidden.data(), w.mixture.data(), batch);
  run.mark(Stage::kSampling);
  if (st.sample) {
    const kernels::SampleCounters counters{st.seed, st.task_id.data(), st.sample_index.data(), 0, step};
    kernels::mixture_sample(w.mixture.data(), model.mixture_biases(), counters, batch, st.values.data(), nullptr, s);
  } else {
    kernels::mixture_log_density_step(w.mixture.data(), model.mixture_biases(), st.values.data(), step, batch,
                                      st.logp.data(), s);
  }
  kernels::increment_device_int(step, s);
}

template void decode_step(LayerRunner<NoStageMarks>&, const TaskData&, const ContextCache&, DecodeState&);
template void decode_step(LayerRunner<RecordedStageMarks>&, const TaskData&, const ContextCache&, DecodeState&);

}  // namespace artabpfn::engine
