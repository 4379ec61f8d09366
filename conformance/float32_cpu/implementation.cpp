// The CPU implementation (this folder) as a conformance Implementation: every contract in
// float32; the attention contracts and the merge in the other precisions (precision.hpp), which
// decline the model jobs. ARTABPFN_MUTANT plants one fault (mutants.hpp). Shared by
// conformance_cpu_adapter and `artabpfn verify` (its check where no GPU is usable).
#include "conformance/float32_cpu/implementation.hpp"

#include <algorithm>

#include "artabpfn/random_stream.hpp"
#include "conformance/float32_cpu/attention.hpp"
#include "conformance/float32_cpu/model.hpp"

namespace artabpfn::conformance {
namespace {

std::vector<int> ints(const std::vector<std::int64_t>& v) { return std::vector<int>(v.begin(), v.end()); }

// The padded [T, H, Nc_max, Dh] context of a case as the implementation's Context.
cpu::Context padded_context(const CaseInput& in, const std::vector<float>& k, const std::vector<float>& v) {
  const Shape& s = in.input("context_k").shape;
  cpu::Context c;
  c.k = k.data();
  c.v = v.data();
  c.length = ints(in.i64("context_len"));
  c.task_of_sample = ints(in.i64("task_of_sample"));
  for (std::int64_t t = 0; t < s[0]; ++t) {
    c.offset.push_back(t * s[1] * s[2] * s[3]);
    c.head_stride.push_back(int(s[2]));
  }
  return c;
}

ResultFile attention(const CaseInput& in, cpu::Precision precision) {
  const Shape& qs = in.input("q").shape;
  const std::vector<float> q = in.f32("q");
  const cpu::Queries queries{q.data(), int(qs[0]), int(qs[1]), int(qs[2]), int(qs[3])};
  std::vector<float> out(q.size(), 0.0f), lse(q.size() / std::size_t(std::max<std::int64_t>(qs[3], 1)), 0.0f);
  const std::string& c = in.spec.contract;
  std::vector<float> ck, cv, bk, bv;
  cpu::Buffer buffer{};
  if (c != "shared_context_attention") {
    bk = in.f32("buffer_k");
    bv = in.f32("buffer_v");
    const bool tf = c == "buffer_attention_teacher_forcing" || (c == "fused_attention" && in.scalar("teacher_forcing") != 0);
    buffer = {bk.data(), bv.data(), int(in.input("buffer_k").shape[2]), int(in.scalar("buffer_len")), tf};
  }
  if (c == "shared_context_attention" || c == "fused_attention") {
    ck = in.f32("context_k");
    cv = in.f32("context_v");
  }
  if (c == "shared_context_attention")
    cpu::shared_context_attention(queries, padded_context(in, ck, cv), out.data(), lse.data(), precision);
  else if (c == "fused_attention")
    cpu::fused_attention(queries, padded_context(in, ck, cv), buffer, out.data(), lse.data(), precision);
  else cpu::buffer_attention(queries, buffer, out.data(), lse.data(), precision);
  return {{"out", float_tensor(qs, out)}, {"lse", float_tensor({qs[0], qs[1], qs[2]}, lse)}};
}

ResultFile merge(const CaseInput& in, cpu::Precision precision) {
  const std::vector<float> o1 = in.f32("out1"), l1 = in.f32("lse1"), o2 = in.f32("out2"), l2 = in.f32("lse2");
  const Shape& s = in.input("out1").shape;
  std::vector<float> out(o1.size()), lse(l1.size());
  cpu::merge_states(o1.data(), l1.data(), o2.data(), l2.data(), s[0], int(s[1]), out.data(), lse.data(), precision);
  return {{"out", float_tensor(s, out)}, {"lse", float_tensor({s[0]}, lse)}};
}

cpu::TaskBatch tasks_of(const CaseInput& in, bool targets) {
  cpu::TaskBatch t;
  const Shape& xc = in.input("x_context").shape;
  t.tasks = int(xc[0]);
  t.nc_max = int(xc[1]);
  t.features = int(xc[2]);
  t.x_context = in.f32("x_context");
  t.y_context = in.f32("y_context");
  t.context_len = ints(in.i64("context_len"));
  if (targets) {
    t.nt_max = int(in.input("x_target").shape[1]);
    t.features = int(in.input("x_target").shape[2]);
    t.x_target = in.f32("x_target");
    t.target_len = ints(in.i64("target_len"));
  }
  return t;
}

}  // namespace

Implementation float32_cpu_implementation(cpu::Precision precision) {
  Implementation impl;
  for (const char* c : {"shared_context_attention", "buffer_attention_decode", "buffer_attention_teacher_forcing",
                        "fused_attention"})
    impl[c] = [precision](const CaseInput& in) { return attention(in, precision); };
  impl["merge_states"] = [precision](const CaseInput& in) { return merge(in, precision); };
  if (precision != cpu::Precision::kFloat32) return impl;
  impl["prefill_kv"] = [](const CaseInput& in) {
    const cpu::Model model(*in.weights);
    const cpu::TaskBatch t = tasks_of(in, false);
    std::vector<float> k, v;
    model.prefill_kv(t, k, v);
    const Shape shape{model.config().n_layers, t.tasks, t.nc_max, model.config().d_model};
    return ResultFile{{"keys", float_tensor(shape, k)}, {"values", float_tensor(shape, v)}};
  };
  for (const char* c : {"teacher_forcing_density", "forced_ar_density"})
    impl[c] = [](const CaseInput& in) {
      const cpu::Model model(*in.weights);
      const cpu::TaskBatch t = tasks_of(in, true);
      const Shape& ys = in.input("y_target").shape;
      const std::vector<float> y = in.f32("y_target");
      const std::vector<float> logpdf = in.spec.contract == "teacher_forcing_density"
                                            ? model.teacher_forcing_density(t, y, int(ys[1]))
                                            : model.forced_ar_density(t, y, int(ys[1]));
      return ResultFile{{"logpdf", float_tensor(ys, logpdf)}};
    };
  impl["mixture_parameters"] = [](const CaseInput& in) {
    const cpu::Model model(*in.weights);
    const Shape& zs = in.input("z").shape;
    const cpu::Mixtures m = model.mixture_parameters(in.f32("z"), zs[0]);
    const Shape shape{zs[0], model.config().num_components};
    return ResultFile{{"mean", float_tensor(shape, m.mean)}, {"std", float_tensor(shape, m.std)},
                      {"log_weight", float_tensor(shape, m.log_weight)}};
  };
  impl["sampler"] = [](const CaseInput& in) {
    const cpu::Model model(*in.weights);
    const Shape& zs = in.input("z").shape;
    const cpu::Mixtures m = model.mixture_parameters(in.f32("z"), zs[0]);
    std::vector<float> y;
    std::vector<std::int64_t> component;
    const bool given = in.spec.labels.at("stream") == "given";
    for (std::int64_t i = 0; i < zs[0]; ++i) {
      random_stream::Draw d{};
      if (given) {
        d = {in.input("uniform").values[std::size_t(i)], in.input("normal").values[std::size_t(i)]};
      } else {
        d = random_stream::draw_for(std::uint64_t(in.scalar("seed")), std::uint32_t(in.i64("task_id")[std::size_t(i)]),
                                    std::uint32_t(in.i64("sample")[std::size_t(i)]), std::uint32_t(in.scalar("step")));
      }
      const int k = model.pick(m, i, d.component_uniform);
      component.push_back(k);
      y.push_back(model.draw(m, i, k, d.normal));
    }
    return ResultFile{{"y", float_tensor({zs[0]}, y)}, {"component", Tensor::i64({zs[0]}, component)}};
  };
  impl["buffer_kv_append"] = [](const CaseInput& in) {
    const cpu::Model model(*in.weights);
    const Shape& ck = in.input("context_keys").shape;
    const Shape& xt = in.input("x_target").shape;
    const int step = int(in.scalar("step"));
    std::vector<float> k, v;
    model.buffer_kv_append(in.f32("x_target"), int(xt[1]), step, in.f32("y_buffer"), in.f32("context_keys"),
                           in.f32("context_values"), int(ck[1]), in.f32("buffer_keys_before"),
                           in.f32("buffer_values_before"), k, v);
    const Shape shape{ck[0], in.input("y_buffer").shape[0], step, ck[2]};
    return ResultFile{{"buffer_keys_after", float_tensor(shape, k)}, {"buffer_values_after", float_tensor(shape, v)}};
  };
  impl["sample_sequence"] = [](const CaseInput& in) {
    const cpu::Model model(*in.weights);
    const cpu::TaskBatch t = tasks_of(in, true);
    const int samples = int(in.scalar("samples"));
    const std::vector<float> s = model.sample_sequence(t, samples, std::uint64_t(in.scalar("seed")));
    return ResultFile{{"samples", float_tensor({t.tasks, samples, t.nt_max}, s)}};
  };
  return impl;
}

}  // namespace artabpfn::conformance

