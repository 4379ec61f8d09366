// Named, deterministic edge cases of the GPU attention kernels (kernels/attention.hpp): empty
// context and buffer, one key, every listed head dim, key counts just off the tile boundaries,
// tasks alternating inside one tile, a launch of more than 65535 blocks, the instance for many
// tiles, adversarial merge LSEs, and argument errors. Same harness (tests/support/gpu/) and
// tolerance rule as properties/gpu_attention.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/device_buffer.hpp"
#include "reference/attention.hpp"
#include "tests/support/gpu/attention_harness.hpp"
#include "tests/support/gpu_available.hpp"
#include "tolerance/bitwise.hpp"

namespace {

using namespace artabpfn::gpu_attention_test;
namespace kernels = artabpfn::kernels;
namespace tolerance = artabpfn::tolerance;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

#define EXPECT_VERDICT(v)          \
  do {                             \
    const Verdict verdict_ = (v);  \
    EXPECT_TRUE(verdict_.ok) << verdict_.text; \
  } while (0)

Shape shape(int batch, int heads, int queries, int head_dim, std::vector<int> context_len, int length,
            BufferMask mask = BufferMask::kDecode) {
  Shape s;
  s.batch = batch;
  s.heads = heads;
  s.queries = queries;
  s.head_dim = head_dim;
  s.context_len = std::move(context_len);
  s.length = length;
  s.capacity = length + 2;
  s.mask = mask;
  return s;
}

TEST(AttentionEdgeCases, EmptyContextGivesZeroAndNegativeInfinity) {
  ARTABPFN_REQUIRE_GPU();
  const Inputs in = random_inputs(shape(5, 3, 2, 30, {0}, 4), 1);
  const Outputs<float> got = run_gpu(Kernel::kShared, in);
  for (float x : got.out) ASSERT_EQ(x, 0.f);
  for (float x : got.lse) ASSERT_EQ(x, kNegInf);
  EXPECT_VERDICT(run_and_check(Kernel::kFused, in));
  EXPECT_VERDICT(run_and_check(Kernel::kSplit, in));
}

TEST(AttentionEdgeCases, EmptyContextTeacherForcingTargetZeroSeesNothing) {
  ARTABPFN_REQUIRE_GPU();
  const int length = 5;
  const Inputs in = random_inputs(shape(3, 2, 2 * length, 24, {0}, length, BufferMask::kTeacherForcing), 2);
  for (Kernel k : {Kernel::kFused, Kernel::kBuffer, Kernel::kSplit}) {
    const Outputs<float> got = run_gpu(k, in);
    for (int b = 0; b < 3; ++b)
      for (int h = 0; h < 2; ++h) {
        const std::size_t row = in.q_index(b, h, length) / 24;  // target 0
        EXPECT_EQ(got.lse[row], kNegInf) << kernel_name(k);
        for (int d = 0; d < 24; ++d) EXPECT_EQ(got.out[row * 24 + static_cast<std::size_t>(d)], 0.f) << kernel_name(k);
      }
    EXPECT_VERDICT(run_and_check(k, in));
  }
}

// kernels::mixed::attention on both of its paths: blocks whose 8 rows share (b, h) stage the keys in
// shared memory (teacher forcing, Lq 2 x 9 = 18), the others read them per warp (decode, Lq 2);
// odd and vector head dims, empty and ragged contexts, key counts off the 32-key steps; every
// output the double reference rounded once.
TEST(AttentionEdgeCases, MixedAttentionBothPaths) {
  ARTABPFN_REQUIRE_GPU();
  for (const int dh : {33, 64})
    for (const auto& nc : {std::vector<int>{0}, std::vector<int>{31, 65}}) {
      Shape tf = shape(3, 2, 18, dh, nc, 9, BufferMask::kTeacherForcing);
      Shape decode = shape(3, 2, 2, dh, nc, 33);
      if (nc.size() > 1) tf.task_of_sample = decode.task_of_sample = {1, 0, 1};
      EXPECT_VERDICT(run_and_check_mixed(random_inputs(tf, 11)));
      EXPECT_VERDICT(run_and_check_mixed(random_inputs(decode, 12)));
    }
}

TEST(AttentionEdgeCases, EmptyBufferDecodeGivesZeroAndNegativeInfinity) {
  ARTABPFN_REQUIRE_GPU();
  const Inputs in = random_inputs(shape(4, 2, 3, 40, {17, 3}, 0), 3);
  const Outputs<float> got = run_gpu(Kernel::kBuffer, in);
  for (float x : got.out) ASSERT_EQ(x, 0.f);
  for (float x : got.lse) ASSERT_EQ(x, kNegInf);
  EXPECT_VERDICT(run_and_check(Kernel::kFused, in));
  EXPECT_VERDICT(run_and_check(Kernel::kSplit, in));
}

TEST(AttentionEdgeCases, OneKeyGivesTheValueExactly) {
  ARTABPFN_REQUIRE_GPU();
  for (int dh : {8, 30, 100, 256}) {
    const Inputs in = random_inputs(shape(3, 2, 2, dh, {1}, 0), 4);
    const Outputs<float> got = run_gpu(Kernel::kShared, in);
    for (int b = 0; b < 3; ++b)
      for (int h = 0; h < 2; ++h)
        for (int i = 0; i < 2; ++i)
          for (int d = 0; d < dh; ++d)
            ASSERT_EQ(got.out[in.q_index(b, h, i) + static_cast<std::size_t>(d)],
                      in.context_v[in.context_index(0, h, 0) + static_cast<std::size_t>(d)])
                << "Dh=" << dh;
    EXPECT_VERDICT(run_and_check(Kernel::kShared, in));
  }
}

TEST(AttentionEdgeCases, EveryListedHeadDim) {
  ARTABPFN_REQUIRE_GPU();
  for (int dh : {8, 16, 24, 30, 32, 40, 48, 64, 72, 80, 96, 100, 128, 256}) {
    SCOPED_TRACE("Dh=" + std::to_string(dh));
    Shape s = shape(7, 2, 2, dh, {45, 0, 130}, 6);
    s.task_of_sample = {2, 0, 1, 2, 2, 0, 1};
    Inputs decode = random_inputs(s, 5 + static_cast<std::uint64_t>(dh));
    for (Kernel k : {Kernel::kShared, Kernel::kBuffer, Kernel::kFused, Kernel::kSplit}) EXPECT_VERDICT(run_and_check(k, decode));
    decode.context_prefetch = true;  // the first context keys copied before the wait
    for (Kernel k : {Kernel::kShared, Kernel::kFused, Kernel::kSplit}) EXPECT_VERDICT(run_and_check(k, decode));
    s.mask = BufferMask::kTeacherForcing;
    s.queries = 2 * s.length;
    const Inputs tf = random_inputs(s, 6 + static_cast<std::uint64_t>(dh));
    for (Kernel k : {Kernel::kBuffer, Kernel::kFused, Kernel::kSplit}) EXPECT_VERDICT(run_and_check(k, tf));
  }
}

TEST(AttentionEdgeCases, KeyCountsOffTileBoundaries) {
  ARTABPFN_REQUIRE_GPU();
  for (int dh : {32, 100})
    for (int nc : {1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 37, 63, 64, 65, 97, 127, 128, 129, 255, 256, 257, 1025}) {
      SCOPED_TRACE("Dh=" + std::to_string(dh) + " Nc=" + std::to_string(nc));
      Inputs in = random_inputs(shape(3, 2, 2, dh, {nc}, 5), 7 + static_cast<std::uint64_t>(nc));
      EXPECT_VERDICT(run_and_check(Kernel::kFused, in));
      in.context_prefetch = true;
      EXPECT_VERDICT(run_and_check(Kernel::kFused, in));
    }
  for (int length : {1, 3, 4, 5, 17, 37, 65}) {  // buffer lengths, teacher forcing
    SCOPED_TRACE("buffer length " + std::to_string(length));
    EXPECT_VERDICT(run_and_check(Kernel::kFused, random_inputs(shape(2, 2, 2 * length, 48, {9}, length, BufferMask::kTeacherForcing), 8)));
  }
}

TEST(AttentionEdgeCases, TasksAlternatingInsideOneTile) {
  ARTABPFN_REQUIRE_GPU();
  Shape s = shape(70, 2, 1, 32, {0, 5, 200}, 3);
  s.task_of_sample.resize(70);
  for (int b = 0; b < 70; ++b) s.task_of_sample[static_cast<std::size_t>(b)] = b % 3;
  const Inputs in = random_inputs(s, 9);
  for (Kernel k : {Kernel::kShared, Kernel::kFused, Kernel::kSplit}) EXPECT_VERDICT(run_and_check(k, in));
}

// The samples `picked` of `in` as a batch of their own (their queries, buffer rows and tasks, the
// same contexts), and what `got`, the outputs of `in`, holds for them: a small launch to hold a
// large launch's rows to.
struct SubBatch {
  Inputs inputs;
  Outputs<float> got;
};

SubBatch pick_samples(const Inputs& in, const Outputs<float>& got, const std::vector<int>& picked) {
  const Shape& s = in.shape;
  Shape sub = s;
  sub.batch = static_cast<int>(picked.size());
  sub.task_of_sample.clear();
  SubBatch out{random_inputs(sub, 11), {}};
  Inputs& small = out.inputs;
  small.context_k = in.context_k;
  small.context_v = in.context_v;
  small.context_offset = in.context_offset;
  out.got = {std::vector<float>(small.q.size()), std::vector<float>(small.q.size() / static_cast<std::size_t>(s.head_dim))};
  const auto dh = static_cast<std::size_t>(s.head_dim);
  for (std::size_t p = 0; p < picked.size(); ++p) {
    const int b = picked[p], to_b = static_cast<int>(p);
    small.shape.task_of_sample.push_back(s.task_of_sample.empty() ? 0 : s.task_of_sample[static_cast<std::size_t>(b)]);
    for (int h = 0; h < s.heads; ++h) {
      for (int i = 0; i < s.queries; ++i) {
        const std::size_t from = in.q_index(b, h, i), to = small.q_index(to_b, h, i);
        for (std::size_t d = 0; d < dh; ++d) {
          small.q[to + d] = in.q[from + d];
          out.got.out[to + d] = got.out[from + d];
        }
        out.got.lse[to / dh] = got.lse[from / dh];
      }
      for (int j = 0; j < s.capacity; ++j)
        for (std::size_t d = 0; d < dh; ++d) {
          small.buffer_k[small.buffer_index(to_b, h, j) + d] = in.buffer_k[in.buffer_index(b, h, j) + d];
          small.buffer_v[small.buffer_index(to_b, h, j) + d] = in.buffer_v[in.buffer_index(b, h, j) + d];
        }
    }
  }
  return out;
}

// `count` samples spread over a batch of `batch`, and its last one.
std::vector<int> spread_samples(int batch, int count) {
  std::vector<int> picked;
  for (int i = 0; i < count; ++i) picked.push_back(static_cast<int>((static_cast<long long>(i) * 600011) % batch));
  picked.push_back(batch - 1);
  return picked;
}

// 300000 samples x 8 heads, one query each, Dh 8: 2.4M query rows, 32 rows per block, so 75000
// blocks (more than 65535) for attention and 300000 for the merge. Checked against the reference
// on a spread of 4000 rows (all of them: finite, written, guards intact).
TEST(AttentionEdgeCases, LaunchOfMoreThan65535Blocks) {
  ARTABPFN_REQUIRE_GPU();
  Shape s = shape(300000, 8, 1, 8, {3, 0, 2}, 2);
  s.capacity = s.length;
  s.task_of_sample.resize(300000);
  for (int b = 0; b < s.batch; ++b) s.task_of_sample[static_cast<std::size_t>(b)] = (b * 7) % 3;
  ASSERT_GT(static_cast<long long>(s.batch) * s.heads / kernels::attention_rows_per_block(s.head_dim), 65535);
  const Inputs in = random_inputs(s, 10);
  for (Kernel k : {Kernel::kFused, Kernel::kSplit}) {
    const Outputs<float> got = run_gpu(k, in);
    for (float x : got.out) ASSERT_TRUE(std::isfinite(x));
    const SubBatch sub = pick_samples(in, got, spread_samples(s.batch, 500));
    EXPECT_VERDICT(check(kernel_name(k), reference<double>(k, sub.inputs), reference<float>(k, sub.inputs), sub.got));
  }
}

// A launch of at least four tiles an SM takes the kernels' instance of four blocks an SM (at Dh 32
// and 4 heads, a decode step of at least 8 samples an SM: 1056 on an H100); its rows must be
// bitwise what the instance of two blocks an SM computes for the same samples in a small launch,
// and match the reference.
TEST(AttentionEdgeCases, ManyTilesTakeFourBlocksAnSmWithTheSameBits) {
  ARTABPFN_REQUIRE_GPU();
  int device = 0, sms = 0;
  ASSERT_EQ(cudaGetDevice(&device), cudaSuccess);
  ASSERT_EQ(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), cudaSuccess);
  Shape s = shape(8 * sms + 5, 4, 2, 32, {45, 0, 19}, 9);
  s.task_of_sample.resize(static_cast<std::size_t>(s.batch));
  for (int b = 0; b < s.batch; ++b) s.task_of_sample[static_cast<std::size_t>(b)] = (b * 5) % 3;
  const std::vector<int> picked = spread_samples(s.batch, 4 * sms);  // ~2 tiles an SM
  ASSERT_EQ(kernels::attention_blocks_per_sm(s.head_dim, 2LL * s.batch, s.heads), 4);
  ASSERT_EQ(kernels::attention_blocks_per_sm(s.head_dim, 2LL * static_cast<long long>(picked.size()), s.heads), 2);
  const Inputs in = random_inputs(s, 12);
  for (Kernel k : {Kernel::kShared, Kernel::kBuffer, Kernel::kFused}) {
    const SubBatch sub = pick_samples(in, run_gpu(k, in), picked);
    const Outputs<float> alone = run_gpu(k, sub.inputs);
    std::string where;
    EXPECT_TRUE(tolerance::bitwise_equal(sub.got.out, alone.out, &where) && tolerance::bitwise_equal(sub.got.lse, alone.lse, &where))
        << kernel_name(k) << ": B " << s.batch << " (4 blocks an SM) vs the same samples alone (2) differ at " << where;
    EXPECT_VERDICT(check(kernel_name(k), reference<double>(k, sub.inputs), reference<float>(k, sub.inputs), sub.got));
  }
}

// flashinfer's adversarial merge inputs: LSE +-1e4 chosen by prime index, padding at -5e4, empty
// parts, and the extreme pair (1e4, -1e4).
TEST(AttentionEdgeCases, MergeAdversarialLse) {
  ARTABPFN_REQUIRE_GPU();
  MergeInputs in = random_merge_inputs(997, 37, 12, 1.0, 0.0);
  for (std::size_t r = 0; r < in.lse1.size(); ++r) {
    in.lse1[r] = (r % 3 == 0) ? 1e4f : (r % 5 == 0 ? -1e4f : -5e4f);
    in.lse2[r] = (r % 7 == 0) ? -1e4f : (r % 11 == 0 ? 1e4f : (r % 13 == 0 ? kNegInf : 1e4f - 1.f));
    if (std::isinf(in.lse2[r]))
      for (int d = 0; d < 37; ++d) in.out2[r * 37 + static_cast<std::size_t>(d)] = 0.f;
  }
  const Outputs<float> got = run_merge_gpu(in);
  for (float x : got.out) ASSERT_TRUE(std::isfinite(x));
  for (float x : got.lse) ASSERT_TRUE(std::isfinite(x));
  EXPECT_VERDICT(check("merge", merge_reference<double>(in), merge_reference<float>(in), got));
}

TEST(AttentionEdgeCases, MergeBothEmptyAndInPlace) {
  ARTABPFN_REQUIRE_GPU();
  MergeInputs in = random_merge_inputs(64, 32, 13, 3.0, 0.0);
  for (std::size_t r = 0; r < 64; r += 4) {
    in.lse1[r] = in.lse2[r] = kNegInf;
    for (int d = 0; d < 32; ++d) in.out1[r * 32 + static_cast<std::size_t>(d)] = in.out2[r * 32 + static_cast<std::size_t>(d)] = 0.f;
  }
  const Outputs<float> a = run_merge_gpu(in, false), b = run_merge_gpu(in, true);
  for (std::size_t r = 0; r < 64; r += 4) {
    EXPECT_EQ(a.lse[r], kNegInf);
    for (int d = 0; d < 32; ++d) EXPECT_EQ(a.out[r * 32 + static_cast<std::size_t>(d)], 0.f);
  }
  EXPECT_TRUE(tolerance::bitwise_equal(a.out, b.out));
  EXPECT_TRUE(tolerance::bitwise_equal(a.lse, b.lse));
  EXPECT_VERDICT(check("merge", merge_reference<double>(in), merge_reference<float>(in), a));
}

TEST(AttentionEdgeCases, ZeroBatchWritesNothing) {
  ARTABPFN_REQUIRE_GPU();
  kernels::GuardedOutput out(0), lse(0);
  std::vector<std::int64_t> offsets{0};
  std::vector<std::int32_t> lens{4};
  kernels::DeviceBuffer<std::int64_t> d_offsets(offsets);
  kernels::DeviceBuffer<std::int32_t> d_lens(lens);
  kernels::DeviceBuffer<float> kv(std::vector<float>(4 * 8, 1.f));
  const kernels::QueryBlock q{kv.data(), 0, 1, 1, 8};
  const kernels::ContextKV ctx{kv.data(), kv.data(), d_offsets.data(), d_lens.data(), d_lens.data()};
  const kernels::BufferKV buf{kv.data(), kv.data(), 4, 4, BufferMask::kDecode};
  kernels::fused_attention(q, ctx, buf, {out.data(), lse.data()}, nullptr);
  kernels::shared_context_attention(q, ctx, {out.data(), lse.data()}, nullptr);
  kernels::merge_attention_states(kv.data(), kv.data(), kv.data(), kv.data(), 0, 8, {out.data(), lse.data()}, nullptr);
  ARTABPFN_CUDA_CHECK(cudaDeviceSynchronize());
  EXPECT_NO_THROW(out.checked_download("out"));
  EXPECT_NO_THROW(lse.checked_download("lse"));
}

TEST(AttentionEdgeCases, InvalidArgumentsThrow) {
  ARTABPFN_REQUIRE_GPU();
  kernels::DeviceBuffer<float> buf(64);
  const kernels::AttentionOut out{buf.data(), buf.data()};
  const kernels::BufferKV tf{buf.data(), buf.data(), 4, 3, BufferMask::kTeacherForcing};
  EXPECT_THROW(kernels::buffer_attention({buf.data(), 1, 1, 5, 8}, tf, out, nullptr), std::invalid_argument);
  const kernels::BufferKV decode{buf.data(), buf.data(), 4, 3, BufferMask::kDecode};
  EXPECT_THROW(kernels::buffer_attention({buf.data(), 1, 1, 1, 257}, decode, out, nullptr), std::invalid_argument);
  EXPECT_THROW(kernels::buffer_attention({buf.data(), 1, 0, 1, 8}, decode, out, nullptr), std::invalid_argument);
  const kernels::BufferKV too_long{buf.data(), buf.data(), 2, 3, BufferMask::kDecode};
  EXPECT_THROW(kernels::buffer_attention({buf.data(), 1, 1, 1, 8}, too_long, out, nullptr), std::invalid_argument);
}

}  // namespace
