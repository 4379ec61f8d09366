#include "tests/support/gpu/attention_harness.hpp"

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <tuple>

#include "kernels/cuda_check.hpp"
#include "kernels/device_buffer.hpp"
#include "kernels/mixed.hpp"
#include "reference/attention.hpp"
#include "tolerance/double_rounding.hpp"
#include "tolerance/ratio_log.hpp"

namespace artabpfn::gpu_attention_test {
namespace {

using reference::Matrix;

std::vector<float> normals(std::size_t count, std::mt19937_64& rng, float scale) {
  std::normal_distribution<float> dist(0.f, 1.f);
  std::vector<float> values(count);
  for (float& v : values) v = scale * dist(rng);
  return values;
}

template <class T>
Matrix<T> rows_of(const std::vector<float>& data, std::size_t first, int rows, int cols) {
  Matrix<T> m(rows, cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      m(r, c) = T(data[first + static_cast<std::size_t>(r) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(c)]);
  return m;
}

// Who sees whom in the buffer (kernels/attention.hpp).
bool buffer_visible(const Shape& s, Eigen::Index i, Eigen::Index j) {
  if (s.mask == BufferMask::kDecode) return j < s.length;
  return i < s.length ? j <= i : j < i - s.length;
}

template <class T>
void store(const reference::AttentionState<T>& st, const Inputs& in, int b, int h, Outputs<double>& out) {
  const Shape& s = in.shape;
  for (int i = 0; i < s.queries; ++i) {
    const std::size_t row = in.q_index(b, h, i);
    for (int d = 0; d < s.head_dim; ++d) out.out[row + static_cast<std::size_t>(d)] = reference::to_double(st.out(i, d));
    out.lse[row / static_cast<std::size_t>(s.head_dim)] = reference::to_double(st.lse(i));
  }
}

}  // namespace

std::string Shape::describe() const {
  std::ostringstream o;
  o << "B=" << batch << " H=" << heads << " Lq=" << queries << " Dh=" << head_dim << " Nc={";
  for (std::size_t t = 0; t < context_len.size(); ++t) o << (t ? "," : "") << context_len[t];
  o << "} tasks_of_sample=" << (task_of_sample.empty() ? "all 0" : std::to_string(task_of_sample.size()) + " ids")
    << " buffer " << length << "/" << capacity << (mask == BufferMask::kDecode ? " decode" : " teacher-forcing");
  return o.str();
}

namespace {

// First element of row `row` of (sample b, head h) in a [B, H, rows, Dh] tensor.
std::size_t row_start(const Shape& s, int b, int h, int rows, int row) {
  const auto at = [](int v) { return static_cast<std::size_t>(v); };
  return ((at(b) * at(s.heads) + at(h)) * at(rows) + at(row)) * at(s.head_dim);
}

}  // namespace

std::size_t Inputs::q_index(int b, int h, int i) const { return row_start(shape, b, h, shape.queries, i); }
std::size_t Inputs::buffer_index(int b, int h, int j) const { return row_start(shape, b, h, shape.capacity, j); }
std::size_t Inputs::context_index(int t, int h, int j) const {
  const Shape& s = shape;
  const auto nc = static_cast<std::size_t>(s.context_len[static_cast<std::size_t>(t)]);
  return static_cast<std::size_t>(context_offset[static_cast<std::size_t>(t)]) +
         (static_cast<std::size_t>(h) * nc + static_cast<std::size_t>(j)) * static_cast<std::size_t>(s.head_dim);
}

Inputs random_inputs(const Shape& shape, std::uint64_t seed, float q_scale, float context_k_scale,
                     float buffer_k_scale) {
  std::mt19937_64 rng(seed);
  Inputs in;
  in.shape = shape;
  const auto H = static_cast<std::size_t>(shape.heads), Dh = static_cast<std::size_t>(shape.head_dim);
  std::size_t context_total = 0;
  for (int nc : shape.context_len) {
    // A gap of a few elements between task blocks: offsets need not be aligned or contiguous.
    context_total += static_cast<std::size_t>(rng() % 3);
    in.context_offset.push_back(static_cast<std::int64_t>(context_total));
    context_total += H * static_cast<std::size_t>(nc) * Dh;
  }
  in.q = normals(static_cast<std::size_t>(shape.batch) * H * static_cast<std::size_t>(shape.queries) * Dh, rng, q_scale);
  in.context_k = normals(context_total, rng, context_k_scale);
  in.context_v = normals(context_total, rng, 1.f);
  const std::size_t buffer_total = static_cast<std::size_t>(shape.batch) * H * static_cast<std::size_t>(shape.capacity) * Dh;
  in.buffer_k = normals(buffer_total, rng, buffer_k_scale);
  in.buffer_v = normals(buffer_total, rng, 1.f);
  return in;
}

Inputs dominated_inputs(const Shape& shape, std::uint64_t seed, bool context_dominates) {
  Inputs in = random_inputs(shape, seed);
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
  std::normal_distribution<float> normal(0.f, 1.f);
  const int Dh = shape.head_dim;
  const auto dh = static_cast<std::size_t>(Dh);
  for (int h = 0; h < shape.heads; ++h) {
    std::vector<float> u(dh);
    float norm = 0.f;
    for (float& x : u) {
      x = normal(rng);
      norm += x * x;
    }
    for (float& x : u) x /= std::sqrt(norm);
    for (int b = 0; b < shape.batch; ++b)
      for (int i = 0; i < shape.queries; ++i) {
        const std::size_t row = in.q_index(b, h, i);
        for (std::size_t d = 0; d < dh; ++d) in.q[row + d] = u[d] + 1e-3f * normal(rng);
      }
    const float big = 1000.f * std::sqrt(static_cast<float>(Dh));
    auto make_dominant = [&](std::vector<float>& keys, std::size_t row) {
      const float c = big * (1.f + 2e-3f * normal(rng));
      for (std::size_t d = 0; d < dh; ++d) keys[row + d] = c * u[d] + normal(rng);
    };
    if (context_dominates) {
      for (int t = 0; t < shape.tasks(); ++t)
        for (int j = 0; j < shape.context_len[static_cast<std::size_t>(t)]; ++j)
          make_dominant(in.context_k, in.context_index(t, h, j));
    } else {
      for (int b = 0; b < shape.batch; ++b)
        for (int j = 0; j < shape.capacity; ++j) make_dominant(in.buffer_k, in.buffer_index(b, h, j));
    }
  }
  return in;
}

const char* kernel_name(Kernel kernel) {
  switch (kernel) {
    case Kernel::kShared: return "shared_context_attention";
    case Kernel::kBuffer: return "buffer_attention";
    case Kernel::kFused: return "fused_attention";
    case Kernel::kSplit: return "split (context + buffer + merge)";
    case Kernel::kMixed: return "mixed::attention";
  }
  return "?";
}

Outputs<float> run_gpu(Kernel kernel, const Inputs& in) {
  using kernels::DeviceBuffer;
  using kernels::GuardedOutput;
  const Shape& s = in.shape;
  std::vector<std::int32_t> tasks = s.task_of_sample;
  if (tasks.empty()) tasks.assign(static_cast<std::size_t>(s.batch), 0);
  DeviceBuffer<float> q(in.q), ck(in.context_k), cv(in.context_v), bk(in.buffer_k), bv(in.buffer_v);
  DeviceBuffer<std::int64_t> offsets(in.context_offset);
  DeviceBuffer<std::int32_t> lens(std::vector<std::int32_t>(s.context_len.begin(), s.context_len.end()));
  DeviceBuffer<std::int32_t> task_ids(tasks);
  const kernels::QueryBlock qb{q.data(), s.batch, s.heads, s.queries, s.head_dim};
  const kernels::ContextKV ctx{ck.data(), cv.data(), offsets.data(), lens.data(), task_ids.data(), in.context_prefetch};
  const kernels::BufferKV buf{bk.data(), bv.data(), s.capacity, s.length, s.mask};
  const std::size_t rows = static_cast<std::size_t>(s.batch) * static_cast<std::size_t>(s.heads) *
                           static_cast<std::size_t>(s.queries);
  GuardedOutput out(rows * static_cast<std::size_t>(s.head_dim)), lse(rows);
  const std::string what = kernel_name(kernel);
  switch (kernel) {
    case Kernel::kShared: kernels::shared_context_attention(qb, ctx, {out.data(), lse.data()}, nullptr); break;
    case Kernel::kBuffer: kernels::buffer_attention(qb, buf, {out.data(), lse.data()}, nullptr); break;
    case Kernel::kFused: kernels::fused_attention(qb, ctx, buf, {out.data(), lse.data()}, nullptr); break;
    case Kernel::kMixed: kernels::mixed::attention(qb, ctx, buf, {out.data(), lse.data()}, nullptr); break;
    case Kernel::kSplit: {
      GuardedOutput out_c(rows * static_cast<std::size_t>(s.head_dim)), lse_c(rows);
      GuardedOutput out_b(rows * static_cast<std::size_t>(s.head_dim)), lse_b(rows);
      kernels::shared_context_attention(qb, ctx, {out_c.data(), lse_c.data()}, nullptr);
      kernels::buffer_attention(qb, buf, {out_b.data(), lse_b.data()}, nullptr);
      kernels::merge_attention_states(out_c.data(), lse_c.data(), out_b.data(), lse_b.data(),
                                      static_cast<std::int64_t>(rows), s.head_dim, {out.data(), lse.data()}, nullptr);
      ARTABPFN_CUDA_CHECK(cudaDeviceSynchronize());
      out_c.checked_download(what + " context part out");
      lse_c.checked_download(what + " context part lse");
      out_b.checked_download(what + " buffer part out");
      lse_b.checked_download(what + " buffer part lse");
      break;
    }
  }
  ARTABPFN_CUDA_CHECK(cudaDeviceSynchronize());
  return {out.checked_download(what + " out"), lse.checked_download(what + " lse")};
}

template <class T>
Outputs<double> reference(Kernel kernel, const Inputs& in) {
  const Shape& s = in.shape;
  const std::size_t rows = static_cast<std::size_t>(s.batch) * static_cast<std::size_t>(s.heads) *
                           static_cast<std::size_t>(s.queries);
  Outputs<double> result{std::vector<double>(rows * static_cast<std::size_t>(s.head_dim)), std::vector<double>(rows)};
  const auto buffer_vis = [&s](Eigen::Index i, Eigen::Index j) { return buffer_visible(s, i, j); };
  for (int b = 0; b < s.batch; ++b) {
    const int t = s.task(b);
    const int nc = s.context_len[static_cast<std::size_t>(t)];
    for (int h = 0; h < s.heads; ++h) {
      const Matrix<T> q = rows_of<T>(in.q, in.q_index(b, h, 0), s.queries, s.head_dim);
      const Matrix<T> ck = rows_of<T>(in.context_k, in.context_index(t, h, 0), nc, s.head_dim);
      const Matrix<T> cv = rows_of<T>(in.context_v, in.context_index(t, h, 0), nc, s.head_dim);
      const Matrix<T> bk = rows_of<T>(in.buffer_k, in.buffer_index(b, h, 0), s.length, s.head_dim);
      const Matrix<T> bv = rows_of<T>(in.buffer_v, in.buffer_index(b, h, 0), s.length, s.head_dim);
      switch (kernel) {
        case Kernel::kShared: store(reference::attend<T>(q, ck, cv), in, b, h, result); break;
        case Kernel::kBuffer: store(reference::attend<T>(q, bk, bv, buffer_vis), in, b, h, result); break;
        case Kernel::kSplit:
          store(reference::merge<T>(reference::attend<T>(q, ck, cv), reference::attend<T>(q, bk, bv, buffer_vis)), in, b,
                h, result);
          break;
        case Kernel::kFused:
        case Kernel::kMixed: {
          Matrix<T> k(nc + s.length, s.head_dim), v(nc + s.length, s.head_dim);
          k.topRows(nc) = ck;
          k.bottomRows(s.length) = bk;
          v.topRows(nc) = cv;
          v.bottomRows(s.length) = bv;
          const auto vis = [&s, nc](Eigen::Index i, Eigen::Index j) { return j < nc || buffer_visible(s, i, j - nc); };
          store(reference::attend<T>(q, k, v, vis), in, b, h, result);
          break;
        }
      }
    }
  }
  return result;
}

template Outputs<double> reference<double>(Kernel, const Inputs&);
template Outputs<double> reference<float>(Kernel, const Inputs&);

namespace {

// The name the ratios are recorded under: the running test's.
std::string ratio_name() {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  return test ? test->name() : "attention";
}

tolerance::Check check_one(const std::string& what, const std::vector<double>& truth,
                           const std::vector<double>& float32, const std::vector<float>& got, double factor,
                           Verdict& verdict) {
  tolerance::Check c = tolerance::check(what, truth, got, float32, factor, tolerance::kAttentionFloor.of(truth));
  tolerance::RatioLog::global().add(ratio_name(), c);
  if (!c.ok) {
    verdict.ok = false;
    verdict.text += c.text + "\n";
  }
  return c;
}

}  // namespace

Verdict check(const std::string& what, const Outputs<double>& truth, const Outputs<double>& float32,
              const Outputs<float>& got, double factor) {
  Verdict v;
  v.out = check_one(what + " out", truth.out, float32.out, got.out, factor, v);
  v.lse = check_one(what + " lse", truth.lse, float32.lse, got.lse, factor, v);
  return v;
}

Verdict run_and_check(Kernel kernel, const Inputs& inputs, double factor) {
  const Outputs<float> got = run_gpu(kernel, inputs);
  Verdict v = check(kernel_name(kernel), reference<double>(kernel, inputs), reference<float>(kernel, inputs), got, factor);
  if (!v.ok) v.text = inputs.shape.describe() + "\n" + v.text;
  return v;
}

Verdict check_agreement(const std::string& what, const Outputs<float>& a, const Verdict& a_verdict,
                        const Outputs<float>& b, const Verdict& b_verdict) {
  Verdict v;
  v.out = tolerance::check_agreement(what + " out", a.out, a_verdict.out, b.out, b_verdict.out);
  v.lse = tolerance::check_agreement(what + " lse", a.lse, a_verdict.lse, b.lse, b_verdict.lse);
  for (const tolerance::Check* c : {&v.out, &v.lse})
    if (!c->ok) {
      v.ok = false;
      v.text += c->text + "\n";
    }
  return v;
}

Verdict run_and_check_mixed(const Inputs& inputs) {
  const Outputs<float> got = run_gpu(Kernel::kMixed, inputs);
  const Outputs<double> truth = reference<double>(Kernel::kMixed, inputs);
  Verdict v;
  for (const auto& [what, t, g] : {std::tuple{"out", &truth.out, &got.out}, std::tuple{"lse", &truth.lse, &got.lse}}) {
    const std::vector<double> wide(g->begin(), g->end());
    std::string where;
    if (tolerance::within_double_rounding(*t, wide, tolerance::kMixedAttentionFloor.of(*t), true, where)) continue;
    v.ok = false;
    v.text += std::string("mixed::attention ") + what + ": " + where + "\n";
  }
  if (!v.ok) v.text = inputs.shape.describe() + "\n" + v.text;
  return v;
}

// --- merge ---------------------------------------------------------------------------------------

MergeInputs random_merge_inputs(std::int64_t rows, int head_dim, std::uint64_t seed, double lse_scale,
                                double empty_fraction) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  MergeInputs in;
  in.rows = rows;
  in.head_dim = head_dim;
  const std::size_t n = static_cast<std::size_t>(rows) * static_cast<std::size_t>(head_dim);
  in.out1 = normals(n, rng, 1.f);
  in.out2 = normals(n, rng, 1.f);
  auto draw_lse = [&]() {
    const double u = uniform(rng);
    if (u < empty_fraction) return -std::numeric_limits<float>::infinity();
    if (u < empty_fraction + 0.1) return static_cast<float>(uniform(rng) < 0.5 ? lse_scale : -lse_scale);
    return static_cast<float>(lse_scale * normal(rng));
  };
  for (std::int64_t r = 0; r < rows; ++r) {
    in.lse1.push_back(draw_lse());
    in.lse2.push_back(draw_lse());
    // The contract: an empty part's output is zero.
    for (int d = 0; d < head_dim; ++d) {
      const std::size_t e = static_cast<std::size_t>(r) * static_cast<std::size_t>(head_dim) + static_cast<std::size_t>(d);
      if (std::isinf(in.lse1.back())) in.out1[e] = 0.f;
      if (std::isinf(in.lse2.back())) in.out2[e] = 0.f;
    }
  }
  return in;
}

Outputs<float> run_merge_gpu(const MergeInputs& in, bool in_place) {
  using kernels::DeviceBuffer;
  using kernels::GuardedOutput;
  const std::size_t n = in.out1.size(), rows = in.lse1.size();
  DeviceBuffer<float> o1(in.out1), l1(in.lse1), o2(in.out2), l2(in.lse2);
  GuardedOutput out(n), lse(rows);
  if (in_place) {  // the output buffers start as part 1 and are merged over
    if (n) ARTABPFN_CUDA_CHECK(cudaMemcpy(out.data(), in.out1.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    if (rows) ARTABPFN_CUDA_CHECK(cudaMemcpy(lse.data(), in.lse1.data(), rows * sizeof(float), cudaMemcpyHostToDevice));
    kernels::merge_attention_states(out.data(), lse.data(), o2.data(), l2.data(), in.rows, in.head_dim,
                                    {out.data(), lse.data()}, nullptr);
  } else {
    kernels::merge_attention_states(o1.data(), l1.data(), o2.data(), l2.data(), in.rows, in.head_dim,
                                    {out.data(), lse.data()}, nullptr);
  }
  ARTABPFN_CUDA_CHECK(cudaDeviceSynchronize());
  return {out.checked_download("merge out"), lse.checked_download("merge lse")};
}

template <class T>
Outputs<double> merge_reference(const MergeInputs& in) {
  const int dh = in.head_dim;
  const auto rows = static_cast<Eigen::Index>(in.rows);
  reference::AttentionState<T> a{Matrix<T>(rows, dh), reference::Vector<T>(rows)};
  reference::AttentionState<T> b{Matrix<T>(rows, dh), reference::Vector<T>(rows)};
  for (Eigen::Index r = 0; r < rows; ++r) {
    a.lse(r) = T(in.lse1[static_cast<std::size_t>(r)]);
    b.lse(r) = T(in.lse2[static_cast<std::size_t>(r)]);
    for (int d = 0; d < dh; ++d) {
      const std::size_t e = static_cast<std::size_t>(r) * static_cast<std::size_t>(dh) + static_cast<std::size_t>(d);
      a.out(r, d) = T(in.out1[e]);
      b.out(r, d) = T(in.out2[e]);
    }
  }
  const reference::AttentionState<T> m = reference::merge<T>(a, b);
  Outputs<double> result;
  for (Eigen::Index r = 0; r < rows; ++r) {
    for (int d = 0; d < dh; ++d) result.out.push_back(reference::to_double(m.out(r, d)));
    result.lse.push_back(reference::to_double(m.lse(r)));
  }
  return result;
}

template Outputs<double> merge_reference<double>(const MergeInputs&);
template Outputs<double> merge_reference<float>(const MergeInputs&);

}  // namespace artabpfn::gpu_attention_test
