// The CUDA kernels (kernels/attention.hpp, kernels/layer.hpp) and the engine's jobs
// (engine/session.hpp) on every conformance case of a contract they expose:
//   attention contracts and merge_states   the kernels, one launch per case (the padded
//                                          [T, H, Nc_max, Dh] context repacked into the kernels'
//                                          per-task [H, Nc_t, Dh] blocks)
//   mixture_parameters, sampler (philox)   linear + GELU + linear, then mixture_params /
//                                          mixture_sample (the kernel draws its own Philox stream,
//                                          so the 'given' sampler cases are skipped)
//   teacher_forcing_density, forced_ar_density, sample_sequence
//                                          Session (ARTABPFN_CONFORMANCE_ATTENTION=split
//                                          or fused, default fused)
// prefill_kv and buffer_kv_append are not exposed by the engine: skipped.
// ARTABPFN_CONFORMANCE_PRECISION=tf32 or tf32x3 (default float32): the engine's precision
// (engine/session_options.hpp) for the model jobs and the head's two products.
// Shared by conformance_cuda_adapter(_mutants) and `artabpfn verify`.
#include "conformance/cuda/cuda_implementation.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "artabpfn/error.hpp"
#include "artabpfn/task_tensors.hpp"
#include "engine/device_model.hpp"
#include "engine/product.hpp"
#include "engine/session.hpp"
#include "kernels/attention.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/head.hpp"
#include "kernels/device_buffer.hpp"
#include "kernels/layer.hpp"

namespace artabpfn::conformance {
namespace {

using kernels::DeviceBuffer;

template <class T>
DeviceBuffer<T> upload(const std::vector<T>& v) {
  return DeviceBuffer<T>(v);
}

std::vector<std::int32_t> int32s(const std::vector<std::int64_t>& v) { return std::vector<std::int32_t>(v.begin(), v.end()); }

// The padded [T, H, Nc_max, Dh] context as the kernels' per-task [H, Nc_t, Dh] blocks.
struct Blocks {
  std::vector<float> k, v;
  std::vector<std::int64_t> offset;
};

Blocks repack_context(const CaseInput& in) {
  const Shape& s = in.input("context_k").shape;  // [T, H, Nc_max, Dh]
  const std::vector<float> k = in.f32("context_k"), v = in.f32("context_v");
  const std::vector<std::int64_t> len = in.i64("context_len");
  Blocks b;
  for (std::int64_t t = 0; t < s[0]; ++t) {
    b.offset.push_back(std::int64_t(b.k.size()));
    for (std::int64_t h = 0; h < s[1]; ++h)
      for (std::int64_t j = 0; j < len[std::size_t(t)]; ++j)
        for (std::int64_t d = 0; d < s[3]; ++d) {
          const std::size_t e = std::size_t(((t * s[1] + h) * s[2] + j) * s[3] + d);
          b.k.push_back(k[e]);
          b.v.push_back(v[e]);
        }
  }
  if (b.k.empty()) {  // keep the pointers valid
    b.k.push_back(0.0f);
    b.v.push_back(0.0f);
  }
  return b;
}

ResultFile attention(const CaseInput& in) {
  const Shape& qs = in.input("q").shape;
  const std::string& c = in.spec.contract;
  const auto q = upload(in.f32("q"));
  const kernels::QueryBlock qb{q.data(), int(qs[0]), int(qs[1]), int(qs[2]), int(qs[3])};
  const std::size_t rows = std::size_t(qs[0] * qs[1] * qs[2]);
  const std::size_t out_count = std::max<std::size_t>(rows * static_cast<std::size_t>(qs[3]), 1), lse_count = std::max<std::size_t>(rows, 1);
  DeviceBuffer<float> out(out_count), lse(lse_count);
  const bool context = c == "shared_context_attention" || c == "fused_attention";
  const bool buffer = c != "shared_context_attention";
  Blocks blocks;
  DeviceBuffer<float> ck, cv, bk, bv;
  DeviceBuffer<std::int64_t> offsets;
  DeviceBuffer<std::int32_t> lens, tasks;
  kernels::ContextKV ctx{};
  kernels::BufferKV buf{};
  if (context) {
    blocks = repack_context(in);
    ck = upload(blocks.k);
    cv = upload(blocks.v);
    offsets = upload(blocks.offset);
    lens = upload(int32s(in.i64("context_len")));
    tasks = upload(int32s(in.i64("task_of_sample")));
    ctx = {ck.data(), cv.data(), offsets.data(), lens.data(), tasks.data()};
  }
  if (buffer) {
    std::vector<float> k = in.f32("buffer_k"), v = in.f32("buffer_v");
    if (k.empty()) k = v = {0.0f};
    bk = upload(k);
    bv = upload(v);
    const bool tf = c == "buffer_attention_teacher_forcing" || (c == "fused_attention" && in.scalar("teacher_forcing") != 0);
    buf.k = bk.data();
    buf.v = bv.data();
    buf.capacity = int(in.input("buffer_k").shape[2]);
    buf.length = int(in.scalar("buffer_len"));
    buf.mask = tf ? kernels::BufferMask::kTeacherForcing : kernels::BufferMask::kDecode;
  }
  const kernels::AttentionOut o{out.data(), lse.data()};
  if (c == "shared_context_attention") kernels::shared_context_attention(qb, ctx, o, nullptr);
  else if (c == "fused_attention") kernels::fused_attention(qb, ctx, buf, o, nullptr);
  else kernels::buffer_attention(qb, buf, o, nullptr);
  ARTABPFN_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<float> out_h = out.download(), lse_h = lse.download();
  out_h.resize(rows * std::size_t(qs[3]));
  lse_h.resize(rows);
  return {{"out", float_tensor(qs, out_h)}, {"lse", float_tensor({qs[0], qs[1], qs[2]}, lse_h)}};
}

ResultFile merge(const CaseInput& in) {
  const Shape& s = in.input("out1").shape;
  const auto o1 = upload(in.f32("out1")), l1 = upload(in.f32("lse1")), o2 = upload(in.f32("out2")),
             l2 = upload(in.f32("lse2"));
  DeviceBuffer<float> out(static_cast<std::size_t>(s[0] * s[1])), lse(static_cast<std::size_t>(s[0]));
  kernels::merge_attention_states(o1.data(), l1.data(), o2.data(), l2.data(), s[0], int(s[1]), {out.data(), lse.data()},
                                  nullptr);
  ARTABPFN_CUDA_CHECK(cudaDeviceSynchronize());
  return {{"out", float_tensor(s, out.download())}, {"lse", float_tensor({s[0]}, lse.download())}};
}

// The head's raw output r [n, 3K] at rows z [n, D], its products in the engine's precision.
DeviceBuffer<float> head_output(engine::Precision precision, const engine::DeviceModel& model,
                                const std::vector<float>& z, std::int64_t n) {
  const ModelConfig& c = model.config();
  const auto dz = upload(z);
  DeviceBuffer<float> hidden(static_cast<std::size_t>(n * c.d_ff)), r(static_cast<std::size_t>(n * 3 * c.num_components));
  engine::product(precision, dz.data(), model.tensor("head.head.0.weight"), model.tensor("head.head.0.bias"),
                  hidden.data(), n, c.d_model, c.d_ff, kernels::Epilogue::kGelu, nullptr);
  engine::product(precision, hidden.data(), model.tensor("head.head.2.weight"), model.tensor("head.head.2.bias"),
                  r.data(), n, c.d_ff, 3 * c.num_components, kernels::Epilogue::kNone, nullptr);
  ARTABPFN_CUDA_CHECK(cudaDeviceSynchronize());
  return r;
}

TaskTensors task_tensors(const CaseInput& in, bool with_y) {
  auto f64 = [&in](const std::string& name) { return HostTensor<double>(in.input(name).shape, in.f64(name)); };
  TaskTensors t;
  t.x_context = f64("x_context");
  t.y_context = f64("y_context");
  t.x_target = f64("x_target");
  if (with_y) t.y_target = f64("y_target");
  t.context_len = in.i64("context_len");
  t.target_len = in.i64("target_len");
  return validate_task_tensors(std::move(t), in.spec.file);
}

engine::SessionOptions engine_options(engine::Precision precision) {
  engine::SessionOptions options;
  const char* mode = std::getenv("ARTABPFN_CONFORMANCE_ATTENTION");
  if (mode && *mode) options.attention = engine::parse_attention_mode(mode);
  options.precision = precision;
  options.notices = [](const std::string&) {};
  return options;
}

engine::Precision precision_from_environment() {
  const char* name = std::getenv("ARTABPFN_CONFORMANCE_PRECISION");
  return name && *name ? engine::parse_precision(name) : engine::Precision::kFloat32;
}

}  // namespace

Implementation cuda_implementation(std::optional<engine::Precision> engine_precision) {
  const engine::Precision precision = engine_precision.value_or(precision_from_environment());
  if (precision == engine::Precision::kMixed)
    throw InputError("the conformance contracts run in float32, tf32 or tf32x3, not 'mixed'");
  Implementation impl;
  for (const char* c : {"shared_context_attention", "buffer_attention_decode", "buffer_attention_teacher_forcing",
                        "fused_attention"})
    impl[c] = attention;
  impl["merge_states"] = merge;
  impl["mixture_parameters"] = [precision](const CaseInput& in) {
    const engine::DeviceModel model(*in.weights);
    const std::int64_t n = in.input("z").shape[0];
    const int K = model.config().num_components;
    const DeviceBuffer<float> r = head_output(precision, model, in.f32("z"), n);
    DeviceBuffer<float> mean(static_cast<std::size_t>(n * K)), sd(mean.size()), lw(mean.size());
    kernels::mixture_params(r.data(), model.mixture_biases(), n, mean.data(), sd.data(), lw.data(), nullptr);
    ARTABPFN_CUDA_CHECK(cudaDeviceSynchronize());
    const Shape shape{n, K};
    return ResultFile{{"mean", float_tensor(shape, mean.download())},
                      {"std", float_tensor(shape, sd.download())},
                      {"log_weight", float_tensor(shape, lw.download())}};
  };
  impl["sampler"] = [precision](const CaseInput& in) -> ResultFile {
    if (in.spec.labels.at("stream") != "philox") return {};  // the kernel draws its own uniforms
    const engine::DeviceModel model(*in.weights);
    const std::int64_t n = in.input("z").shape[0];
    const DeviceBuffer<float> r = head_output(precision, model, in.f32("z"), n);
    std::vector<std::uint32_t> task_id, sample;
    for (std::int64_t v : in.i64("task_id")) task_id.push_back(std::uint32_t(v));
    for (std::int64_t v : in.i64("sample")) sample.push_back(std::uint32_t(v));
    const auto dt = upload(task_id), ds = upload(sample);
    DeviceBuffer<float> y(static_cast<std::size_t>(n));
    DeviceBuffer<std::int32_t> component(static_cast<std::size_t>(n));
    const kernels::SampleCounters counters{std::uint64_t(in.scalar("seed")), dt.data(), ds.data(),
                                           std::uint32_t(in.scalar("step"))};
    kernels::mixture_sample(r.data(), model.mixture_biases(), counters, n, y.data(), component.data(), nullptr);
    ARTABPFN_CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<std::int32_t> k = component.download();
    return ResultFile{{"y", float_tensor({n}, y.download())},
                      {"component", Tensor::i64({n}, std::vector<std::int64_t>(k.begin(), k.end()))}};
  };
  for (const char* c : {"teacher_forcing_density", "forced_ar_density"})
    impl[c] = [precision](const CaseInput& in) {
      const engine::DeviceModel model(*in.weights);
      engine::Session session(model, engine_options(precision));
      const TaskTensors t = task_tensors(in, true);
      const HostTensor<float> logpdf = in.spec.contract == "teacher_forcing_density" ? session.evaluate_joint_density(t)
                                                                                    : session.forced_ar_density(t);
      return ResultFile{{"logpdf", float_tensor(logpdf.shape, logpdf.data)}};
    };
  impl["sample_sequence"] = [precision](const CaseInput& in) {
    const engine::DeviceModel model(*in.weights);
    engine::Session session(model, engine_options(precision));
    const TaskTensors t = task_tensors(in, false);
    const HostTensor<float> s = session.sample_sequence(t, in.scalar("samples"), std::uint64_t(in.scalar("seed")));
    return ResultFile{{"samples", float_tensor(s.shape, s.data)}};
  };
  return impl;
}

}  // namespace artabpfn::conformance

