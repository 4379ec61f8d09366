// The engine's jobs as sequences of kernel launches on the context's stream.
//
// Row layouts. Prefill: the context rows of all tasks, concatenated [Nc_total, D]. Teacher
// forcing: per sequence (task x value set) L = 2 Nt rows, buffers 0..Nt-1 then targets
// 0..Nt-1. Decode step t: per sequence 2 rows, buffer t-1 (a dummy at t = 0) then target t.
// q, k, v come from one product with the stacked [3D, D] weights ([n, 3D] rows); attention reads
// q there and writes its output in rows layout. Buffer K/V are kept in the [B, H, capacity, Dh]
// layout of kernels/attention.hpp, context K/V once per task per layer as [H, Nc_t, Dh] blocks.
// A decode step's launches do not depend on t (it is read from device memory), so
// sample_sequence and forced_ar_density capture one step as a CUDA graph and replay it Nt times.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "artabpfn/error.hpp"
#include "artabpfn/median.hpp"
#include "engine/inference_context.hpp"
#include "engine/mixed_density.hpp"
#include "engine/task_data.hpp"
#include "kernels/attention.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/decode.hpp"
#include "kernels/head.hpp"

namespace artabpfn::engine {

using kernels::DeviceBuffer;

AttentionMode parse_attention_mode(const std::string& name) {
  if (name == "split") return AttentionMode::kSplit;
  if (name == "fused") return AttentionMode::kFused;
  if (name == "reencode") return AttentionMode::kReencode;
  throw InputError("unknown attention mode '" + name + "' (split, fused or reencode)");
}

std::string attention_mode_name(AttentionMode mode) {
  switch (mode) {
    case AttentionMode::kSplit: return "split";
    case AttentionMode::kFused: return "fused";
    case AttentionMode::kReencode: return "reencode";
  }
  return "?";
}

Precision parse_precision(const std::string& name) {
  if (name == "float32") return Precision::kFloat32;
  if (name == "mixed") return Precision::kMixed;
  throw InputError("unknown precision '" + name + "' (float32 or mixed)");
}

std::string precision_name(Precision precision) { return precision == Precision::kMixed ? "mixed" : "float32"; }

namespace {

// Scratch for n rows of a layer (and the head of up to n rows).
struct Workspace {
  // qkv [n, 3D]: q | k | v of each row. Attention reads q there and writes w.a ([n, D] rows,
  // heads side by side) directly; kh, vh hold the teacher-forcing buffer K/V in heads layout.
  DeviceBuffer<float> x, t1, h, qkv, a, h2, f, mix, kh, vh, o1, o2, lse, lse1, lse2;
  Workspace(std::int64_t n, const ModelConfig& c, bool buffer_heads)
      : x(sz(n, c.d_model)), t1(sz(n, c.d_model)), h(sz(n, c.d_model)),
        qkv(sz(n, 3 * c.d_model)), a(sz(n, c.d_model)), h2(sz(n, c.d_model)), f(sz(n, c.d_ff)),
        mix(sz(n, 3 * c.num_components)), kh(buffer_heads ? sz(n, c.d_model) : 0),
        vh(buffer_heads ? sz(n, c.d_model) : 0), o1(sz(n, c.d_model)), o2(sz(n, c.d_model)),
        lse(sz(n, c.n_heads)), lse1(sz(n, c.n_heads)), lse2(sz(n, c.n_heads)) {}
  static std::size_t sz(std::int64_t n, int width) { return static_cast<std::size_t>(n) * static_cast<std::size_t>(width); }
  // Floats per row, for memory planning.
  static std::int64_t floats_per_row(const ModelConfig& c) {
    return 14 * c.d_model + c.d_ff + 3 * c.num_components + 3 * c.n_heads;
  }
};

// A second stream for work beside the context's stream: fork(main) makes it wait for what main
// has queued so far, join(main) makes main wait for what it has queued since. Eager and under
// stream capture alike (a captured step then has two branches).
class SideStream {
 public:
  SideStream() {
    ARTABPFN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    ARTABPFN_CUDA_CHECK(cudaEventCreateWithFlags(&forked_, cudaEventDisableTiming));
    ARTABPFN_CUDA_CHECK(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming));
  }
  ~SideStream() {
    cudaEventDestroy(forked_);
    cudaEventDestroy(done_);
    cudaStreamDestroy(stream_);
  }
  SideStream(const SideStream&) = delete;
  SideStream& operator=(const SideStream&) = delete;
  cudaStream_t fork(cudaStream_t main) {
    ARTABPFN_CUDA_CHECK(cudaEventRecord(forked_, main));
    ARTABPFN_CUDA_CHECK(cudaStreamWaitEvent(stream_, forked_, 0));
    return stream_;
  }
  void join(cudaStream_t main) {
    ARTABPFN_CUDA_CHECK(cudaEventRecord(done_, stream_));
    ARTABPFN_CUDA_CHECK(cudaStreamWaitEvent(main, done_, 0));
  }

 private:
  cudaStream_t stream_ = nullptr;
  cudaEvent_t forked_ = nullptr, done_ = nullptr;
};

// Optional stage markers of an eager decode step (profile_decode_step): mark(stage) records an
// event on the stream; the launches after it, up to the next mark, count to `stage`.
class StageMarks {
 public:
  StageMarks() = default;
  StageMarks(const StageMarks&) = delete;
  StageMarks& operator=(const StageMarks&) = delete;
  ~StageMarks() {
    for (cudaEvent_t e : events_) cudaEventDestroy(e);
  }
  void mark(const char* stage, cudaStream_t stream) {
    if (used_ == events_.size()) {
      cudaEvent_t e = nullptr;
      ARTABPFN_CUDA_CHECK(cudaEventCreate(&e));
      events_.push_back(e);
    }
    ARTABPFN_CUDA_CHECK(cudaEventRecord(events_[used_++], stream));
    names_.emplace_back(stage);
  }
  void restart() {
    used_ = 0;
    names_.clear();
  }
  // After the stream synchronised: appends each stage's summed intervals (us) to its samples in
  // `stages` (first-seen order); the last mark only closes the step. Returns first-to-last (us).
  double collect(std::vector<std::pair<std::string, std::vector<double>>>& stages) const {
    const auto us = [&](std::size_t a, std::size_t b) {
      float ms = 0;
      ARTABPFN_CUDA_CHECK(cudaEventElapsedTime(&ms, events_[a], events_[b]));
      return 1000.0 * double(ms);
    };
    std::vector<double> sums(stages.size(), 0.0);
    for (std::size_t i = 0; i + 1 < used_; ++i) {
      std::size_t k = 0;
      while (k < stages.size() && stages[k].first != names_[i]) ++k;
      if (k == stages.size()) {
        stages.emplace_back(names_[i], std::vector<double>());
        sums.push_back(0.0);
      }
      sums[k] += us(i, i + 1);
    }
    for (std::size_t k = 0; k < stages.size(); ++k) stages[k].second.push_back(sums[k]);
    return used_ > 1 ? us(0, used_ - 1) : 0.0;
  }

 private:
  std::vector<cudaEvent_t> events_;
  std::vector<std::string> names_;
  std::size_t used_ = 0;
};

// ContextOptions::progress for one call: counts steps over the call's chunks, reports at most
// every 0.25 s after the stream has caught up, and at the end.
class StepProgress {
 public:
  StepProgress(const ContextOptions& options, cudaStream_t stream, std::int64_t total)
      : report_(options.progress), stream_(stream), total_(total) {}
  void step_done() {
    ++done_;
    if (!report_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done_ < total_ && now - last_ < std::chrono::milliseconds(250)) return;
    ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(stream_));
    last_ = now;
    report_(done_, total_);
  }

 private:
  const std::function<void(std::int64_t, std::int64_t)>& report_;
  cudaStream_t stream_;
  std::int64_t total_, done_ = 0;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

class Runner {
 public:
  Runner(const DeviceModel& model, const ContextOptions& options, cudaStream_t stream)
      : Runner(model, options, stream, options.fuse_epilogues) {}
  // norms_in_products: each LayerNorm in the launch of the product before it (options.fuse_epilogues
  // above); false beside the cluster step, whose wave holds the GPCs linear_layer_norm's clusters
  // would wait for.
  Runner(const DeviceModel& model, const ContextOptions& options, cudaStream_t stream, bool norms_in_products)
      : m_(model), c_(model.config()), options_(options), s_(stream), norms_in_products_(norms_in_products) {}

  // Stage markers of profile_decode_step; null (the default): no events.
  StageMarks* marks = nullptr;
  void mark(const char* stage) {
    if (marks) marks->mark(stage, s_);
  }

  // Runs every layer on x [n, D] in place (w.x, or a slice of it), with w's other buffers as
  // scratch from row 0; attend(l, w) fills w.a from w.qkv for layer l.
  // Per layer: the folded feature map, q|k|v, attention, out_proj, ff.0 (+ GELU), ff.2, each of
  // the three LayerNorms after the product before it. appends (a decode step: one per layer):
  // the K/V append after q|k|v. options_.fuse_epilogues: the LayerNorms and the append in the
  // launch of the product before them where the kernels can (6 launches a decode step's layer);
  // else separate launches (10); bitwise the same. norms_in_products_ false: the LayerNorms apart.
  template <class Attend>
  void layers(Workspace& w, float* x, std::int64_t n, Attend&& attend, const kernels::KVAppend* appends = nullptr) {
    using kernels::Epilogue;
    const int D = c_.d_model;
    for (int l = 0; l < c_.n_layers; ++l) {
      const LayerWeights& L = m_.layer(l);
      mark("projections");
      product_then_norm(x, L.feature, nullptr, D, x, L.norm1_weight, L.norm1_bias, w.h.data(), n);
      mark("projections");
      if (appends != nullptr && options_.fuse_epilogues) {
        kernels::linear_append_kv(w.h.data(), L.qkv, w.qkv.data(), n, D, appends[l], s_);
      } else {
        kernels::linear(w.h.data(), L.qkv, nullptr, nullptr, w.qkv.data(), n, D, 3 * D, Epilogue::kNone, s_);
        if (appends != nullptr) {  // buffer t-1's K/V join the cache before the step's attention
          mark("kv_append");
          kernels::append_buffer_kv_step(w.qkv.data(), n, appends[l], s_);
        }
      }
      attend(l, w);
      mark("projections");
      product_then_norm(w.a.data(), L.out, nullptr, D, w.h.data(), L.norm2_weight, L.norm2_bias, w.h2.data(), n);
      mark("feed_forward");
      kernels::linear(w.h2.data(), L.ff_in, L.ff_in_bias, nullptr, w.f.data(), n, D, c_.d_ff, Epilogue::kGelu, s_);
      product_then_norm(w.f.data(), L.ff_out, L.ff_out_bias, c_.d_ff, w.h2.data(), L.norm3_weight, L.norm3_bias, x, n);
    }
  }

  // out = LN(residual + (x W^T + bias)) for x [n, in]: one launch (fused) or two; the LayerNorm
  // launch counts to the "layer_norm" stage of a stage profile.
  void product_then_norm(const float* x, const float* weight, const float* bias, int in, const float* residual,
                         const float* ln_weight, const float* ln_bias, float* out, std::int64_t n) {
    const int D = c_.d_model;
    if (norms_in_products_) {
      kernels::linear_layer_norm(x, weight, bias, residual, ln_weight, ln_bias, out, n, in, D, s_);
      return;
    }
    kernels::linear(x, weight, bias, nullptr, out, n, in, D, kernels::Epilogue::kNone, s_);
    mark("layer_norm");
    kernels::layer_norm(residual, out, ln_weight, ln_bias, out, n, D, s_);
  }

  // Final LayerNorm (in place) and mixture head on z [n, D]; hidden [n, d_ff], r [n, 3K].
  void head(float* z, float* hidden, float* r, std::int64_t n) {
    using kernels::Epilogue;
    const int D = c_.d_model;
    kernels::layer_norm(z, nullptr, m_.tensor("backbone.norm.weight"), m_.tensor("backbone.norm.bias"), z, n, D, s_);
    kernels::linear(z, m_.tensor("head.head.0.weight"), m_.tensor("head.head.0.bias"), nullptr, hidden, n, D,
                    c_.d_ff, Epilogue::kGelu, s_);
    kernels::linear(hidden, m_.tensor("head.head.2.weight"), m_.tensor("head.head.2.bias"), nullptr, r, n, c_.d_ff,
                    3 * c_.num_components, Epilogue::kNone, s_);
  }

  // Attention of q (rows layout in w.qkv) over context and buffer into w.a [B * Lq, D] rows.
  void attend(const kernels::QueryBlock& q, const kernels::ContextKV& context, const kernels::BufferKV& buffer,
              Workspace& w) {
    if (options_.attention != AttentionMode::kSplit) {  // fused, and the reencode baseline's passes
      mark("attention");
      kernels::fused_attention(q, context, buffer, {w.a.data(), w.lse.data(), true}, s_);
      return;
    }
    mark("context_attention");
    kernels::shared_context_attention(q, context, {w.o1.data(), w.lse1.data(), true}, s_);
    mark("buffer_attention");
    kernels::buffer_attention(q, buffer, {w.o2.data(), w.lse2.data(), true}, s_);
    mark("merge");
    kernels::merge_attention_states(w.o1.data(), w.lse1.data(), w.o2.data(), w.lse2.data(),
                                    std::int64_t(q.batch) * q.heads * q.queries, q.head_dim,
                                    {w.a.data(), w.lse.data(), true}, s_);
  }

  // Teacher-forcing pass over `batch` sequences of nt buffer rows then nt target rows: sequence b
  // reads the context of task seq_task[b], feature rows seq_task[b] * Nt_max + j and values
  // y[b * nt + j] (device). Leaves the targets' mixture rows in w.mix [batch * nt, 3K].
  void teacher_forcing_pass(const TaskData& d, const ContextCache& cache, const std::vector<std::int32_t>& seq_task,
                            const float* y, std::int64_t nt, Workspace& w) {
    const std::int64_t batch = static_cast<std::int64_t>(seq_task.size()), L = 2 * nt, n = batch * L;
    const int D = c_.d_model;
    const TeacherForcingIndex index(d, seq_task, nt);
    embed_teacher_forcing_rows(m_.embedding(), d, index, y, nt, w.x.data(), s_);
    layers(w, w.x.data(), n, [&](int l, Workspace& ws) {
      const LayerAttention job = teacher_forcing_attention(ws.qkv.data(), ws.kh.data(), ws.vh.data(), cache, l, d,
                                                           index, nt, c_.n_heads, c_.head_dim(), s_);
      attend(job.q, job.context, job.buffer, ws);
    });
    kernels::gather_rows(w.x.data(), w.t1.data(), batch * nt, D, nt, L, nt, s_);
    head(w.t1.data(), w.f.data(), w.mix.data(), batch * nt);
    // The device vectors above must outlive the queued kernels.
    ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(s_));
  }

  ContextCache prefill(const TaskData& d) {
    const std::int64_t n = d.context_rows;
    ContextCache cache(c_.n_layers, n, c_.d_model);
    if (n == 0) return cache;
    Workspace w(n, c_, false);
    embed_context_rows(m_.embedding(), d, w.x.data(), s_);
    layers(w, w.x.data(), n, [&](int l, Workspace& ws) {
      const LayerAttention job = store_prefill_kv(ws.qkv.data(), cache, l, d, c_.n_heads, c_.head_dim(), s_);
      kernels::shared_context_attention(job.q, job.context, {ws.a.data(), ws.lse.data(), true}, s_);
    });
    return cache;
  }

  // Sequences per chunk so that `floats_per_sequence` floats each fit the budget.
  std::int64_t plan_chunk(const char* job, std::int64_t sequences, std::int64_t floats_per_sequence) {
    std::size_t budget = options_.memory_budget_bytes;
    if (budget == 0) {
      std::size_t free_bytes = 0, total = 0;
      ARTABPFN_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
      budget = free_bytes / 10 * 9;
    }
    const std::int64_t per = floats_per_sequence * std::int64_t(sizeof(float));
    const std::int64_t fit = std::max<std::int64_t>(1, std::int64_t(budget) / per);
    const std::int64_t chunk = std::min(sequences, fit);
    const double gib = double(per) * double(sequences) / double(1 << 30);
    const std::int64_t chunks = (sequences + chunk - 1) / chunk;
    if (chunks > 1)
      notice(fmt::format("{}: {} sequences need {:.2f} GiB of device memory, {:.2f} GiB available: running {} chunks "
                         "of up to {}",
                         job, sequences, gib, double(budget) / double(1 << 30), chunks, chunk));
    return chunk;
  }

  void notice(const std::string& message) { (options_.notices ? options_.notices : stderr_notices())("engine: " + message); }

  const DeviceModel& m_;
  const ModelConfig& c_;
  const ContextOptions& options_;
  cudaStream_t s_;
  const bool norms_in_products_;
};

HostTensor<float> padded_result(const TaskData& d, std::int64_t rows_per_task) {
  HostTensor<float> out({d.tasks, rows_per_task, d.nt_max});
  std::fill(out.data.begin(), out.data.end(), std::numeric_limits<float>::quiet_NaN());
  return out;
}

// The task of each sequence [first, first + batch), `per_task` sequences a task.
std::vector<std::int32_t> sequence_tasks(std::int64_t first, std::int64_t batch, std::int64_t per_task) {
  std::vector<std::int32_t> task(static_cast<std::size_t>(batch));
  for (std::int64_t b = 0; b < batch; ++b) task[std::size_t(b)] = static_cast<std::int32_t>((first + b) / per_task);
  return task;
}

// Copies a [Nt, B] step-major device result of sequences [first, first + B) into out [T, R, Nt].
void scatter_steps(const std::vector<float>& steps, std::int64_t first, std::int64_t batch, std::int64_t rows_per_task,
                   const TaskData& d, HostTensor<float>& out) {
  for (std::int64_t b = 0; b < batch; ++b) {
    const std::int64_t seq = first + b, task = seq / rows_per_task;
    for (std::int64_t t = 0; t < d.target_len[static_cast<std::size_t>(task)]; ++t)
      out.data[static_cast<std::size_t>(seq * d.nt_max + t)] = steps[static_cast<std::size_t>(t * batch + b)];
  }
}

// Sequence-major values [B, nt] of sequences [first, first + B), zero past a task's count.
std::vector<float> given_values(const TaskTensors& t, std::int64_t first, std::int64_t batch, std::int64_t nt) {
  const std::int64_t sets = t.value_sets(), nt_max = t.x_target.dim(1);
  std::vector<float> y(static_cast<std::size_t>(batch * nt), 0.0f);
  for (std::int64_t b = 0; b < batch; ++b) {
    const std::int64_t seq = first + b, len = std::min(nt, t.target_len[std::size_t(seq / sets)]);
    for (std::int64_t j = 0; j < len; ++j)
      y[std::size_t(b * nt + j)] = static_cast<float>(t.y_target->data[std::size_t(seq * nt_max + j)]);
  }
  return y;
}

// The same values step-major [nt, B], as the decode path reads them.
std::vector<float> given_values_by_step(const TaskTensors& t, std::int64_t first, std::int64_t batch, std::int64_t nt) {
  const std::vector<float> y = given_values(t, first, batch, nt);
  std::vector<float> by_step(y.size());
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t j = 0; j < nt; ++j) by_step[std::size_t(j * batch + b)] = y[std::size_t(b * nt + j)];
  return by_step;
}

// One task per sequence [first, first + B) (sequence s belongs to task s / per_task), each with
// its own copy of its task's context: what a baseline without a shared context cache works on.
TaskTensors one_task_per_sequence(const TaskTensors& t, std::int64_t first, std::int64_t batch, std::int64_t per_task) {
  const std::int64_t nc = t.x_context.dim(1), nt = t.x_target.dim(1), f = t.feature_count();
  TaskTensors out;
  out.x_context = HostTensor<double>({batch, nc, f});
  out.y_context = HostTensor<double>({batch, nc});
  out.x_target = HostTensor<double>({batch, nt, f});
  for (std::int64_t b = 0; b < batch; ++b) {
    const std::int64_t task = (first + b) / per_task;
    std::copy_n(t.x_context.data.begin() + task * nc * f, nc * f, out.x_context.data.begin() + b * nc * f);
    std::copy_n(t.y_context.data.begin() + task * nc, nc, out.y_context.data.begin() + b * nc);
    std::copy_n(t.x_target.data.begin() + task * nt * f, nt * f, out.x_target.data.begin() + b * nt * f);
    out.context_len.push_back(t.context_len[std::size_t(task)]);
    out.target_len.push_back(t.target_len[std::size_t(task)]);
  }
  return out;
}

}  // namespace

struct InferenceContext::Impl {
  static std::int64_t pass_floats_per_sequence(const ModelConfig& c, std::int64_t nt) {
    return 2 * nt * (Workspace::floats_per_row(c) + 2 * c.d_model) + 8 * nt;
  }

  // The reencode baseline: at every step t, each sequence re-encodes its own copy of the context
  // and its buffers 0..t-1 from scratch (no cache survives a step), and the head reads target t.
  // Samples (sample == true, `samples` per task, drawn with the random-stream contract) or
  // scores the given values (log densities). Returns [T, rows, Nt_max].
  static HostTensor<float> reencode(const DeviceModel& model, const ContextOptions& options, cudaStream_t stream,
                                    const TaskTensors& tasks, std::int64_t samples, std::uint64_t seed, bool sample) {
    const ModelConfig& c = model.config();
    Runner run(model, options, stream);
    const std::int64_t per_task = sample ? samples : tasks.value_sets();
    const std::int64_t total = tasks.task_count() * per_task, nt = tasks.x_target.dim(1);
    const TaskData shape(tasks, c.d_model);
    HostTensor<float> out = padded_result(shape, per_task);
    const std::int64_t per_sequence =
        tasks.x_context.dim(1) * (Workspace::floats_per_row(c) + 2 * c.n_layers * c.d_model) +
        pass_floats_per_sequence(c, nt);
    const std::int64_t chunk = run.plan_chunk("reencode", total, per_sequence);
    const int k3 = 3 * c.num_components;
    StepProgress progress(options, stream, (total + chunk - 1) / chunk * nt);
    for (std::int64_t first = 0; first < total; first += chunk) {
      const std::int64_t batch = std::min(chunk, total - first);
      const TaskData d(validate_task_tensors(one_task_per_sequence(tasks, first, batch, per_task), "reencode"), c.d_model);
      std::vector<std::int32_t> seq_task(static_cast<std::size_t>(batch));
      std::vector<std::uint32_t> task_id(seq_task.size()), sample_index(seq_task.size());
      for (std::int64_t b = 0; b < batch; ++b) {
        seq_task[std::size_t(b)] = static_cast<std::int32_t>(b);
        task_id[std::size_t(b)] = static_cast<std::uint32_t>((first + b) / per_task);
        sample_index[std::size_t(b)] = static_cast<std::uint32_t>((first + b) % per_task);
      }
      const auto dev_task_id = upload(task_id), dev_sample = upload(sample_index);
      const std::vector<float> given = sample ? std::vector<float>() : given_values(tasks, first, batch, nt);
      std::vector<float> values(static_cast<std::size_t>(batch * nt), 0.0f);  // [B, nt]
      DeviceBuffer<float> mix_t(static_cast<std::size_t>(batch * k3)), step_out(static_cast<std::size_t>(batch)),
          step_y(static_cast<std::size_t>(batch));
      for (std::int64_t t = 0; t < nt; ++t) {
        const ContextCache cache = run.prefill(d);  // re-encoded at every step
        std::vector<float> y(static_cast<std::size_t>(batch * (t + 1)), 0.0f);
        for (std::int64_t b = 0; b < batch; ++b)
          for (std::int64_t j = 0; j < t; ++j) y[std::size_t(b * (t + 1) + j)] = values[std::size_t(b * nt + j)];
        const DeviceBuffer<float> dev_y(y);
        Workspace w(batch * 2 * (t + 1), c, true);
        run.teacher_forcing_pass(d, cache, seq_task, dev_y.data(), t + 1, w);
        kernels::gather_rows(w.mix.data(), mix_t.data(), batch, k3, 1, t + 1, t, stream);
        std::vector<float> result;
        if (sample) {
          const kernels::SampleCounters counters{seed, dev_task_id.data(), dev_sample.data(), static_cast<std::uint32_t>(t)};
          kernels::mixture_sample(mix_t.data(), model.mixture_biases(), counters, batch, step_out.data(), nullptr, stream);
        } else {
          std::vector<float> y_t(static_cast<std::size_t>(batch));
          for (std::int64_t b = 0; b < batch; ++b) y_t[std::size_t(b)] = given[std::size_t(b * nt + t)];
          step_y.upload(y_t);
          kernels::mixture_log_density(mix_t.data(), model.mixture_biases(), step_y.data(), batch, step_out.data(), stream);
        }
        result = step_out.download();
        for (std::int64_t b = 0; b < batch; ++b) {
          values[std::size_t(b * nt + t)] = sample ? result[std::size_t(b)] : given[std::size_t(b * nt + t)];
          if (t < tasks.target_len[std::size_t((first + b) / per_task)])
            out.data[std::size_t((first + b) * nt + t)] = result[std::size_t(b)];
        }
        progress.step_done();
      }
    }
    return out;
  }

  // Persistent device state of the AR decode path for sequences [first, first + batch),
  // `per_task` sequences per task: per-sample buffer K/V, the step-major [Nt, B] values (drawn,
  // or given for forced AR density), the log densities, the workspace of one step's 2B rows
  // (buffer t-1 and target t of every sample; at t = 0 the buffer row is a dummy nobody reads)
  // and the step index t in device memory. A step's launches never change with t, so one CUDA
  // graph serves every step.
  struct DecodeState {
    std::int64_t batch = 0;
    int cap = 1;
    bool sample = false;
    std::uint64_t seed = 0;
    DeviceBuffer<std::int32_t> task, x_base, step;
    std::vector<std::int32_t> task_host;  // task of each sample, for the cluster step's check
    DeviceBuffer<std::uint32_t> task_id, sample_index;
    DeviceBuffer<float> values, logp;
    std::vector<DeviceBuffer<float>> kb, vb;
    Workspace w;
    SideStream side;  // for the samples beside the cluster step's (decode_step)

    DecodeState(const ModelConfig& c, const TaskData& d, std::int64_t first, std::int64_t batch_, std::int64_t per_task,
                bool sample_, std::uint64_t seed_, const std::vector<float>& given)
        : batch(batch_), cap(std::max(d.nt_max, 1)), sample(sample_), seed(seed_), step(1),
          w(2 * batch_, c, false) {
      task_host = sequence_tasks(first, batch, per_task);
      std::vector<std::int32_t> base(task_host.size());
      std::vector<std::uint32_t> tid(task_host.size()), sidx(task_host.size());
      for (std::size_t b = 0; b < task_host.size(); ++b) {
        base[b] = static_cast<std::int32_t>(std::int64_t(task_host[b]) * d.nt_max);
        tid[b] = static_cast<std::uint32_t>(task_host[b]);
        sidx[b] = static_cast<std::uint32_t>((first + std::int64_t(b)) % per_task);
      }
      task = upload(task_host);
      x_base = upload(base);
      task_id = upload(tid);
      sample_index = upload(sidx);
      values = sample ? DeviceBuffer<float>(static_cast<std::size_t>(d.nt_max * batch)) : upload(given);
      logp = DeviceBuffer<float>(sample ? 0 : static_cast<std::size_t>(d.nt_max * batch));
      for (int l = 0; l < c.n_layers; ++l) {
        kb.emplace_back(static_cast<std::size_t>(batch) * c.n_heads * cap * c.head_dim());
        vb.emplace_back(static_cast<std::size_t>(batch) * c.n_heads * cap * c.head_dim());
      }
    }
  };

  // Samples over one wave of clusters that kAuto still gives the cluster step: those past the wave
  // run the per-layer launches on a second stream at the same time, on the SMs the clusters leave
  // idle (bench/engine/NOTES.md, "Beside the clusters"): up to one cluster's worth.
  static constexpr std::int64_t kSamplesBesideClusters = kernels::kClusterDecodeMaxSamples;
  // Fewest samples kAuto gives the cluster step (H100: at B 1 the per-layer step took 373 us, the
  // cluster step 397; at B 32 427 against 408).
  static constexpr std::int64_t kFewestClusteredSamples = 32;

  // How many of a batch's samples (task_of_sample: each one's task), from the first, the cluster
  // step (kernels/decode.hpp) decodes; the others run on the per-layer launches. None where it does
  // not serve (ContextOptions::decode_layers): per-layer launches asked for, split attention,
  // another model shape, a device without it, a block's samples of different tasks; with kAuto also
  // where it is slower: below kFewestClusteredSamples and over one wave plus kSamplesBesideClusters
  // (bench/engine/NOTES.md, "The cluster step"). kAuto gives it at most one wave: of 18-sample
  // clusters, or, where their blocks would mix tasks, of 16-sample ones (e.g. tasks of 128 samples:
  // 240 in the wave and 16 beside it at B 256); kClusters all.
  static std::int64_t clustered_samples(const Runner& run, const std::vector<std::int32_t>& task_of_sample) {
    const ModelConfig& c = run.c_;
    const DecodeLayers how = run.options_.decode_layers;
    if (how == DecodeLayers::kPerLayer || run.options_.attention != AttentionMode::kFused ||
        !kernels::cluster_decode_fits(c.d_model, c.n_heads, c.d_ff, c.n_layers) || !kernels::cluster_decode_available())
      return 0;
    const auto fit = [&](std::int64_t n) {
      return kernels::cluster_decode_tasks_fit({task_of_sample.begin(), task_of_sample.begin() + n});
    };
    const std::int64_t samples = std::int64_t(task_of_sample.size());
    if (how == DecodeLayers::kClusters) return fit(samples) ? samples : 0;
    if (samples < kFewestClusteredSamples) return 0;
    const std::int64_t resident = kernels::cluster_decode_resident_clusters();
    for (const std::int64_t wave : {kernels::kClusterDecodeMaxSamples * resident, kernels::kClusterDecodeHalvesOf8 * resident}) {
      const std::int64_t n = std::min(samples, wave);
      if (samples - n <= kSamplesBesideClusters && fit(n)) return n;
    }
    return 0;
  }

  // The cluster step's arguments (all layers of a decode step in one launch, bitwise the same as
  // the per-layer launches with fused attention) for st's samples [0, args.batch), or nothing
  // (clustered_samples, or unaligned memory).
  static std::optional<kernels::ClusterDecodeArgs> cluster_step(const Runner& run, const TaskData& d,
                                                                const ContextCache& cache, DecodeState& st) {
    const std::int64_t samples = clustered_samples(run, st.task_host);
    if (samples == 0) return std::nullopt;
    const ModelConfig& c = run.c_;
    kernels::ClusterDecodeArgs a;
    for (int l = 0; l < c.n_layers; ++l) {
      const LayerWeights& L = run.m_.layer(l);
      const std::size_t i = static_cast<std::size_t>(l);
      a.layers[l] = {L.feature,       L.qkv,           L.out,          L.ff_in,        L.ff_in_bias,
                     L.ff_out,        L.ff_out_bias,   L.norm1_weight, L.norm1_bias,   L.norm2_weight,
                     L.norm2_bias,    L.norm3_weight,  L.norm3_bias,   cache.k[i].data(), cache.v[i].data(),
                     st.kb[i].data(), st.vb[i].data()};
    }
    a.n_layers = c.n_layers;
    a.x = st.w.x.data();
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
  // run's stream: their rows of st.w.x, st.w's other buffers as scratch.
  static void layered_step(Runner& run, const TaskData& d, const ContextCache& cache, DecodeState& st,
                           std::int64_t first, std::int64_t count) {
    const ModelConfig& c = run.c_;
    const int H = c.n_heads, Dh = c.head_dim(), D = c.d_model;
    const std::int64_t buffer_offset = first * H * st.cap * Dh;  // [B, H, capacity, Dh] caches
    const std::int32_t* task = st.task.data() + first;
    int* step = st.step.data();
    // Buffer t-1's K/V join the cache after each layer's q|k|v, before its attention (nothing at t = 0).
    std::vector<kernels::KVAppend> appends;
    for (int l = 0; l < c.n_layers; ++l)
      appends.push_back({st.kb[std::size_t(l)].data() + buffer_offset, st.vb[std::size_t(l)].data() + buffer_offset,
                         st.cap, step, H, Dh});
    run.layers(st.w, st.w.x.data() + first * 2 * D, 2 * count, [&](int l, Workspace& ws) {
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

  // Launches one decode step (the one st.step names) on run's stream and advances st.step.
  static void decode_step(Runner& run, const TaskData& d, const ContextCache& cache, DecodeState& st) {
    const ModelConfig& c = run.c_;
    const int D = c.d_model;
    const std::int64_t batch = st.batch;
    Workspace& w = st.w;
    int* step = st.step.data();
    run.mark("embed");
    kernels::embed_decode_step(run.m_.embedding(), d.x_target.data(), st.x_base.data(), d.features, st.values.data(),
                               step, batch, w.x.data(), run.s_);
    const std::optional<kernels::ClusterDecodeArgs> clusters = cluster_step(run, d, cache, st);
    const std::int64_t clustered = clusters ? clusters->batch : 0;
    const std::span<const std::int32_t> clustered_tasks(st.task_host.data(), static_cast<std::size_t>(clustered));
    if (clustered == 0) {
      layered_step(run, d, cache, st, 0, batch);
    } else if (clustered == batch) {
      kernels::cluster_decode_layers(*clusters, clustered_tasks, run.s_);
    } else {  // the clusters' launch first, so that its blocks find their SMs free
      const cudaStream_t side = st.side.fork(run.s_);
      kernels::cluster_decode_layers(*clusters, clustered_tasks, run.s_);
      Runner beside(run.m_, run.options_, side, /*norms_in_products=*/false);
      layered_step(beside, d, cache, st, clustered, batch - clustered);
      st.side.join(run.s_);
    }
    run.mark("head");
    kernels::gather_rows(w.x.data(), w.t1.data(), batch, D, 1, 2, 1, run.s_);
    run.head(w.t1.data(), w.f.data(), w.mix.data(), batch);
    run.mark("sampling");
    if (st.sample) {
      const kernels::SampleCounters counters{st.seed, st.task_id.data(), st.sample_index.data(), 0, step};
      kernels::mixture_sample(w.mix.data(), run.m_.mixture_biases(), counters, batch, st.values.data(), nullptr, run.s_);
    } else {
      kernels::mixture_log_density_step(w.mix.data(), run.m_.mixture_biases(), st.values.data(), step, batch,
                                        st.logp.data(), run.s_);
    }
    kernels::increment_device_int(step, run.s_);
  }

  // One decode step captured as a CUDA graph (on a private non-blocking stream, thread-local
  // capture mode, so other threads' contexts are undisturbed) and replayed on the context's stream.
  class StepGraph {
   public:
    StepGraph(Runner& run, const TaskData& d, const ContextCache& cache, DecodeState& st) {
      cudaStream_t capture = nullptr;
      ARTABPFN_CUDA_CHECK(cudaStreamCreateWithFlags(&capture, cudaStreamNonBlocking));
      Runner crun(run.m_, run.options_, capture);
      ARTABPFN_CUDA_CHECK(cudaStreamBeginCapture(capture, cudaStreamCaptureModeThreadLocal));
      try {
        decode_step(crun, d, cache, st);
      } catch (...) {
        cudaGraph_t broken = nullptr;
        cudaStreamEndCapture(capture, &broken);
        if (broken) cudaGraphDestroy(broken);
        cudaStreamDestroy(capture);
        throw;
      }
      const cudaError_t ended = cudaStreamEndCapture(capture, &graph_);
      cudaStreamDestroy(capture);
      ARTABPFN_CUDA_CHECK(ended);
      ARTABPFN_CUDA_CHECK(cudaGraphInstantiate(&exec_, graph_, 0));
    }
    ~StepGraph() {
      if (exec_) cudaGraphExecDestroy(exec_);
      if (graph_) cudaGraphDestroy(graph_);
    }
    StepGraph(const StepGraph&) = delete;
    StepGraph& operator=(const StepGraph&) = delete;
    void launch(cudaStream_t stream) { ARTABPFN_CUDA_CHECK(cudaGraphLaunch(exec_, stream)); }
    std::size_t nodes() const {
      std::size_t count = 0;
      ARTABPFN_CUDA_CHECK(cudaGraphGetNodes(graph_, nullptr, &count));
      return count;
    }

   private:
    cudaGraph_t graph_ = nullptr;
    cudaGraphExec_t exec_ = nullptr;
  };

  // The AR decode path for sequences [first, first + batch), `per_task` sequences per task.
  // sample == true: values [Nt, B] are drawn (seed); else they are given and log densities
  // are returned. Returns the step-major [Nt, B] values (sampling) or log densities.
  static std::vector<float> decode(Runner& run, const TaskData& d, const ContextCache& cache, std::int64_t first,
                                   std::int64_t batch, std::int64_t per_task, bool sample, std::uint64_t seed,
                                   const std::vector<float>& given, StepProgress& progress) {
    DecodeState st(run.c_, d, first, batch, per_task, sample, seed, given);
    kernels::set_device_int(st.step.data(), 0, run.s_);
    if (d.nt_max > 0 && run.options_.decode_graphs) {
      StepGraph graph(run, d, cache, st);
      for (int t = 0; t < d.nt_max; ++t) {
        graph.launch(run.s_);
        progress.step_done();
      }
    } else {
      for (int t = 0; t < d.nt_max; ++t) {
        decode_step(run, d, cache, st);
        progress.step_done();
      }
    }
    ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(run.s_));
    return sample ? st.values.download() : st.logp.download();
  }

  // The step timers' set-up: samples sampled sequences per task, steps 0..step-1 run through the
  // graph, so that st is ready to replay step `step`.
  static void run_steps_before(Runner& run, StepGraph& graph, DecodeState& st, int step) {
    kernels::set_device_int(st.step.data(), 0, run.s_);
    for (int t = 0; t < step; ++t) graph.launch(run.s_);
    ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(run.s_));
  }

  // One replay of decode step `step` timed with CUDA events, in microseconds; the step counter is
  // set back first (a replay of the step is idempotent).
  class StepTimer {
   public:
    StepTimer(cudaStream_t stream, int* step_counter, int step) : stream_(stream), counter_(step_counter), step_(step) {
      ARTABPFN_CUDA_CHECK(cudaEventCreate(&start_));
      ARTABPFN_CUDA_CHECK(cudaEventCreate(&stop_));
    }
    ~StepTimer() {
      cudaEventDestroy(start_);
      cudaEventDestroy(stop_);
    }
    StepTimer(const StepTimer&) = delete;
    StepTimer& operator=(const StepTimer&) = delete;
    template <class Body>
    double us(Body&& body) {
      kernels::set_device_int(counter_, step_, stream_);
      ARTABPFN_CUDA_CHECK(cudaEventRecord(start_, stream_));
      body();
      ARTABPFN_CUDA_CHECK(cudaEventRecord(stop_, stream_));
      ARTABPFN_CUDA_CHECK(cudaEventSynchronize(stop_));
      float ms = 0;
      ARTABPFN_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
      return 1000.0 * double(ms);
    }

   private:
    cudaStream_t stream_;
    int* counter_;
    int step_;
    cudaEvent_t start_ = nullptr, stop_ = nullptr;
  };

  static StepTiming time_decode_step(Runner& run, const TaskData& d, const ContextCache& cache, std::int64_t samples,
                                     int step, int replays) {
    DecodeState st(run.c_, d, 0, std::int64_t(d.tasks) * samples, samples, true, 7, {});
    StepGraph graph(run, d, cache, st);
    run_steps_before(run, graph, st, step);
    StepTimer timer(run.s_, st.step.data(), step);
    const auto median_us = [&](auto&& body) {
      std::vector<double> us;
      for (int i = 0; i < replays + 5; ++i) {  // 5 warm-up replays
        const double t = timer.us(body);
        if (i >= 5) us.push_back(t);
      }
      return median(us);
    };
    StepTiming timing;
    timing.eager_us = median_us([&] { decode_step(run, d, cache, st); });
    timing.graph_us = median_us([&] { graph.launch(run.s_); });
    timing.graph_nodes = graph.nodes();
    return timing;
  }

  // A host gate in the stream: the GPU waits until the host has queued everything behind it (or
  // 2 s passed, e.g. a full launch queue; then timed_out).
  struct Gate {
    std::atomic<bool> open{false}, timed_out{false};
    static void CUDART_CB wait(void* self) {
      auto* gate = static_cast<Gate*>(self);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (!gate->open.load(std::memory_order_acquire))
        if (std::chrono::steady_clock::now() > deadline) {
          gate->timed_out = true;
          return;
        }
    }
  };

  // Per replay, on one decode state at step `step`: the marked eager step (queued behind a gate),
  // the unmarked eager step and the graph replay; medians after 5 warm-up replays.
  static StepProfile profile_decode_step(Runner& run, const TaskData& d, const ContextCache& cache,
                                         std::int64_t samples, int step, int replays) {
    DecodeState st(run.c_, d, 0, std::int64_t(d.tasks) * samples, samples, true, 7, {});
    StepGraph graph(run, d, cache, st);
    run_steps_before(run, graph, st, step);
    StepProfile profile;
    profile.graph_nodes = graph.nodes();
    StepTimer timer(run.s_, st.step.data(), step);
    StageMarks marks;
    std::vector<std::pair<std::string, std::vector<double>>> stages;
    std::vector<double> staged, eager, replayed;
    for (int i = 0; i < replays + 5; ++i) {
      kernels::set_device_int(st.step.data(), step, run.s_);
      Gate gate;
      ARTABPFN_CUDA_CHECK(cudaLaunchHostFunc(run.s_, Gate::wait, &gate));
      marks.restart();
      run.marks = &marks;
      try {
        decode_step(run, d, cache, st);
        marks.mark("end", run.s_);
      } catch (...) {
        run.marks = nullptr;
        gate.open = true;
        cudaStreamSynchronize(run.s_);
        throw;
      }
      run.marks = nullptr;
      gate.open.store(true, std::memory_order_release);
      ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(run.s_));
      if (gate.timed_out) profile.queued_ahead = false;
      std::vector<std::pair<std::string, std::vector<double>>> scratch;
      const double marked = marks.collect(i >= 5 ? stages : scratch);
      const double e = timer.us([&] { decode_step(run, d, cache, st); });
      const double g = timer.us([&] { graph.launch(run.s_); });
      if (i < 5) continue;
      staged.push_back(marked);
      eager.push_back(e);
      replayed.push_back(g);
    }
    for (auto& [name, samples_us] : stages) profile.stages.push_back({name, median(samples_us)});
    profile.staged_us = median(staged);
    profile.eager_us = median(eager);
    profile.graph_us = median(replayed);
    return profile;
  }

  static std::int64_t decode_floats_per_sequence(const ModelConfig& c, int nt_max) {
    return std::int64_t(c.n_layers) * 2 * std::max(nt_max, 1) * c.d_model + 2 * Workspace::floats_per_row(c) +
           2 * nt_max + 8;
  }

  // The AR decoding calls (sample_sequence: sample; forced_ar_density: the given y_target values):
  // prefill once, then decode the per_task sequences of every task in chunks that fit in memory.
  static HostTensor<float> decode_in_chunks(const InferenceContext& self, const char* what, const TaskTensors& tasks,
                                            std::int64_t per_task, bool sample, std::uint64_t seed) {
    const TaskData d(tasks, self.model_.config().d_model);
    Runner run(self.model_, self.options_, self.stream_);
    const ContextCache cache = run.prefill(d);
    HostTensor<float> out = padded_result(d, per_task);
    const std::int64_t total = std::int64_t(d.tasks) * per_task;
    const std::int64_t chunk = run.plan_chunk(what, total, decode_floats_per_sequence(self.model_.config(), d.nt_max));
    StepProgress progress(self.options_, self.stream_, (total + chunk - 1) / chunk * d.nt_max);
    for (std::int64_t first = 0; first < total; first += chunk) {
      const std::int64_t batch = std::min(chunk, total - first);
      const std::vector<float> given = sample ? std::vector<float>{} : given_values_by_step(tasks, first, batch, d.nt_max);
      scatter_steps(decode(run, d, cache, first, batch, per_task, sample, seed, given, progress), first, batch, per_task,
                    d, out);
    }
    return out;
  }
};

namespace {
void require_float32(const ContextOptions& options, const char* job) {
  if (options.precision != Precision::kFloat32)
    throw InputError(std::string(job) + ": precision '" + precision_name(options.precision) +
                     "' serves evaluate_joint_density only; the decode jobs run in float32");
}
}  // namespace

InferenceContext::InferenceContext(const DeviceModel& model, ContextOptions options)
    : model_(model), options_(std::move(options)) {
  ARTABPFN_CUDA_CHECK(cudaStreamCreate(&stream_));
}

InferenceContext::~InferenceContext() {
  if (stream_) cudaStreamDestroy(stream_);
}

HostTensor<float> InferenceContext::sample_sequence(const TaskTensors& tasks, std::int64_t samples, std::uint64_t seed) {
  if (samples < 1) throw InputError("sample_sequence: samples must be at least 1");
  if (samples > std::int64_t(UINT32_MAX)) throw InputError("sample_sequence: at most 2^32 - 1 samples per task");
  require_float32(options_, "sample_sequence");
  if (options_.attention == AttentionMode::kReencode) return Impl::reencode(model_, options_, stream_, tasks, samples, seed, true);
  return Impl::decode_in_chunks(*this, "sample_sequence", tasks, samples, true, seed);
}

DecodePlan InferenceContext::decode_plan(const TaskTensors& tasks, std::int64_t per_task) const {
  if (per_task < 1 || per_task > std::int64_t(UINT32_MAX))
    throw InputError("decode_plan: per_task must be 1 to 2^32 - 1 sequences per task");
  const std::vector<std::int32_t> task_of_sample = sequence_tasks(0, tasks.task_count() * per_task, per_task);
  const std::int64_t clustered = Impl::clustered_samples(Runner(model_, options_, stream_), task_of_sample);
  return {clustered, std::int64_t(task_of_sample.size()) - clustered};
}

StepTiming InferenceContext::time_decode_step(const TaskTensors& tasks, std::int64_t samples, int step, int replays) {
  const TaskData d(tasks, model_.config().d_model);
  if (step < 0 || step >= d.nt_max || replays < 1) throw InputError("time_decode_step: needs 0 <= step < Nt and replays >= 1");
  Runner run(model_, options_, stream_);
  const ContextCache cache = run.prefill(d);
  return Impl::time_decode_step(run, d, cache, samples, step, replays);
}

StepProfile InferenceContext::profile_decode_step(const TaskTensors& tasks, std::int64_t samples, int step, int replays) {
  const TaskData d(tasks, model_.config().d_model);
  if (step < 0 || step >= d.nt_max || replays < 1) throw InputError("profile_decode_step: needs 0 <= step < Nt and replays >= 1");
  if (options_.attention == AttentionMode::kReencode) throw InputError("profile_decode_step: split or fused attention only");
  ContextOptions plain = options_;
  plain.fuse_epilogues = false;  // the stages are marked on the sequence of separate launches
  plain.decode_layers = DecodeLayers::kPerLayer;
  Runner run(model_, plain, stream_);
  const ContextCache cache = run.prefill(d);
  return Impl::profile_decode_step(run, d, cache, samples, step, replays);
}

HostTensor<float> InferenceContext::forced_ar_density(const TaskTensors& tasks) {
  if (!tasks.y_target) throw InputError("forced_ar_density: inputs have no y_target");
  require_float32(options_, "forced_ar_density");
  if (options_.attention == AttentionMode::kReencode) return Impl::reencode(model_, options_, stream_, tasks, 0, 0, false);
  return Impl::decode_in_chunks(*this, "forced_ar_density", tasks, tasks.value_sets(), false, 0);
}

HostTensor<float> InferenceContext::evaluate_joint_density(const TaskTensors& tasks) {
  if (!tasks.y_target) throw InputError("evaluate_joint_density: inputs have no y_target");
  const bool mixed = options_.precision == Precision::kMixed;
  if (mixed && options_.attention == AttentionMode::kReencode)
    throw InputError("evaluate_joint_density: the reencode baseline runs in float32 only (precision 'mixed' asked)");
  if (options_.attention == AttentionMode::kReencode) return Impl::reencode(model_, options_, stream_, tasks, 0, 0, false);
  const ModelConfig& c = model_.config();
  const TaskData d(tasks, c.d_model);
  Runner run(model_, options_, stream_);
  MixedDensity mixed_pass(model_, stream_);
  const ContextCache cache = mixed ? mixed_pass.prefill(d) : run.prefill(d);
  const std::int64_t sets = tasks.value_sets(), nt = d.nt_max;
  HostTensor<float> out = padded_result(d, sets);
  if (nt == 0) return out;
  const std::int64_t total = std::int64_t(d.tasks) * sets;
  const std::int64_t per_sequence =
      mixed ? MixedDensity::floats_per_sequence(c, nt) : Impl::pass_floats_per_sequence(c, nt);
  const std::int64_t chunk = run.plan_chunk("evaluate_joint_density", total, per_sequence);
  for (std::int64_t first = 0; first < total; first += chunk) {
    const std::int64_t batch = std::min(chunk, total - first);
    const std::vector<std::int32_t> seq_task = sequence_tasks(first, batch, sets);
    const auto y = DeviceBuffer<float>(given_values(tasks, first, batch, nt));
    DeviceBuffer<float> log_density(static_cast<std::size_t>(batch * nt));
    if (mixed) {
      mixed_pass.teacher_forcing(d, cache, seq_task, y.data(), nt, log_density.data());
    } else {
      Workspace w(batch * 2 * nt, c, true);
      run.teacher_forcing_pass(d, cache, seq_task, y.data(), nt, w);
      kernels::mixture_log_density(w.mix.data(), model_.mixture_biases(), y.data(), batch * nt, log_density.data(),
                                   stream_);
      ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(stream_));
    }
    std::vector<float> logp(static_cast<std::size_t>(batch * nt));
    ARTABPFN_CUDA_CHECK(cudaMemcpy(logp.data(), log_density.data(), logp.size() * sizeof(float), cudaMemcpyDeviceToHost));
    for (std::int64_t b = 0; b < batch; ++b) {
      const std::int64_t seq = first + b;
      for (std::int64_t j = 0; j < tasks.target_len[std::size_t(seq / sets)]; ++j)
        out.data[std::size_t(seq * nt + j)] = logp[std::size_t(b * nt + j)];
    }
  }
  return out;
}

}  // namespace artabpfn::engine
