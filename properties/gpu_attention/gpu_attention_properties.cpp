// Properties of the GPU attention kernels (kernels/attention.hpp), RapidCheck over random shapes
// and values; each property runs >= 100 cases by default (RC_PARAMS="max_success=N" for more).
//
// The tolerance is the rule of tolerance/rule.hpp: max |gpu - double reference| <=
// tolerance::kAttentionFactor x max |float32 reference - double reference| +
// tolerance::kAttentionFloor (4 float32 ulps of the largest reference value), for out and lse
// separately, NaN/infinity mismatches first. Every property prints the measured distribution of
// error / plain error ("[ratio]"). Every launch writes into GuardedOutput buffers: poisoned before,
// checked after (guards intact, every element written) -- see
// tests/support/gpu/attention_harness.cpp.
//
// Properties (named as in the issue):
//   *MatchesReference        each kernel (shared context, buffer decode / teacher forcing, fused
//                            decode / teacher forcing, merge) against the double reference
//   EmptyContext             Nc = 0 for every task: (0, -inf) exactly from the context kernel,
//                            fused equals the buffer part
//   NonPowerOfTwoHeadDims    Dh in {24, 30, 40, 48, 72, 80, 96, 100} (the listed non-powers of 2)
//   BatchSmallerThanTile     every B from 1 to two tiles plus one
//   SplitEqualsFused         context + buffer + merge and fused, each against the reference and
//                            against each other
//   ExtremeScoreRanges       one source's scores ~1e3 above the other's, both ways
//                            (tolerance::kExtremeScoreFactor)
//   Determinism              same inputs twice: bitwise equal
//   ContextPrefetchChangesNoBit  context keys copied before the PDL wait: bitwise the same
//   BatchInvariance          a sample's output is bitwise the same at another B / position / with
//                            other neighbours
//   SeveralTasksOneLaunch    3..6 tasks with different Nc (one of them 0), samples interleaved
//   Merge*                   identity of (0, -inf), order independence, +-1e4 LSE, in place
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "tests/support/gpu/attention_harness.hpp"
#include "tests/support/gpu_available.hpp"
#include "tolerance/bitwise.hpp"
#include "tolerance/ratio_log.hpp"

namespace {

using namespace artabpfn::gpu_attention_test;
namespace tolerance = artabpfn::tolerance;

const std::vector<int> kHeadDims{8, 16, 24, 30, 32, 40, 48, 64, 72, 80, 96, 100, 128, 256};
const std::vector<int> kNonPowerOfTwoHeadDims{24, 30, 40, 48, 72, 80, 96, 100};

void require_ok(const Verdict& v) {
  if (!v.ok) RC_FAIL(v.text);
}

// A random shape; sizes keep the double + float references of one case well under a second.
Shape draw_shape(BufferMask mask, int max_tasks = 4, int max_batch = 16, const std::vector<int>& head_dims = kHeadDims) {
  Shape s;
  s.head_dim = *rc::gen::elementOf(head_dims);
  s.heads = *rc::gen::inRange(1, 5);
  const int nc_max = s.head_dim <= 64 ? 200 : 80;
  const int tasks = *rc::gen::inRange(1, max_tasks + 1);
  s.context_len = *rc::gen::container<std::vector<int>>(static_cast<std::size_t>(tasks), rc::gen::inRange(0, nc_max + 1));
  s.batch = *rc::gen::inRange(1, max_batch + 1);
  s.task_of_sample = *rc::gen::container<std::vector<std::int32_t>>(static_cast<std::size_t>(s.batch),
                                                                     rc::gen::inRange<std::int32_t>(0, tasks));
  s.mask = mask;
  if (mask == BufferMask::kDecode) {
    s.length = *rc::gen::inRange(0, 25);
    s.queries = *rc::gen::inRange(1, 4);
  } else {
    s.length = *rc::gen::inRange(1, 13);
    s.queries = 2 * s.length;
  }
  s.capacity = s.length + *rc::gen::inRange(0, 4);
  return s;
}

BufferMask draw_mask() { return *rc::gen::elementOf(std::vector<BufferMask>{BufferMask::kDecode, BufferMask::kTeacherForcing}); }

std::uint64_t draw_seed() { return *rc::gen::arbitrary<std::uint64_t>(); }

void report() { tolerance::RatioLog::global().print(::testing::UnitTest::GetInstance()->current_test_info()->name()); }

}  // namespace

// A property as a GoogleTest test that skips without a GPU (RC_GTEST_PROP cannot skip).
#define GPU_PROPERTY(name, description, ...)               \
  TEST(AttentionProperties, name) {                        \
    ARTABPFN_REQUIRE_GPU();                                \
    EXPECT_TRUE(rc::check(description, __VA_ARGS__));      \
    report();                                              \
  }

GPU_PROPERTY(SharedContextMatchesReference, "shared_context_attention vs double reference", [] {
  require_ok(run_and_check(Kernel::kShared, random_inputs(draw_shape(BufferMask::kDecode), draw_seed())));
})

GPU_PROPERTY(BufferDecodeMatchesReference, "buffer_attention (decode) vs double reference", [] {
  require_ok(run_and_check(Kernel::kBuffer, random_inputs(draw_shape(BufferMask::kDecode), draw_seed())));
})

GPU_PROPERTY(BufferTeacherForcingMatchesReference, "buffer_attention (teacher forcing) vs double reference", [] {
  require_ok(run_and_check(Kernel::kBuffer, random_inputs(draw_shape(BufferMask::kTeacherForcing), draw_seed())));
})

GPU_PROPERTY(FusedDecodeMatchesReference, "fused_attention (decode) vs double reference", [] {
  require_ok(run_and_check(Kernel::kFused, random_inputs(draw_shape(BufferMask::kDecode), draw_seed())));
})

GPU_PROPERTY(FusedTeacherForcingMatchesReference, "fused_attention (teacher forcing) vs double reference", [] {
  require_ok(run_and_check(Kernel::kFused, random_inputs(draw_shape(BufferMask::kTeacherForcing), draw_seed())));
})

GPU_PROPERTY(MixedDecodeIsDoubleRoundedOnce, "mixed::attention (decode) = double reference rounded to float32", [] {
  require_ok(run_and_check_mixed(random_inputs(draw_shape(BufferMask::kDecode), draw_seed())));
})

GPU_PROPERTY(MixedTeacherForcingIsDoubleRoundedOnce,
             "mixed::attention (teacher forcing, empty contexts and odd head dims included) = double rounded once", [] {
  Shape s = draw_shape(BufferMask::kTeacherForcing, 1, 16, kNonPowerOfTwoHeadDims);
  if (*rc::gen::arbitrary<bool>()) for (int& nc : s.context_len) nc = 0;
  require_ok(run_and_check_mixed(random_inputs(s, draw_seed())));
})

GPU_PROPERTY(EmptyContext, "Nc = 0 for every task: context part (0, -inf), fused = buffer part", [] {
  Shape s = draw_shape(draw_mask());
  for (int& nc : s.context_len) nc = 0;
  const Inputs in = random_inputs(s, draw_seed());
  const Outputs<float> ctx = run_gpu(Kernel::kShared, in);
  for (float x : ctx.out) RC_ASSERT(x == 0.f && !std::signbit(x));
  for (float x : ctx.lse) RC_ASSERT(x == -std::numeric_limits<float>::infinity());
  require_ok(run_and_check(Kernel::kFused, in));
  require_ok(run_and_check(Kernel::kSplit, in));
  // Nothing to merge from the context: fused must agree with the buffer kernel within the rule.
  const Outputs<double> truth = reference<double>(Kernel::kBuffer, in), f32 = reference<float>(Kernel::kBuffer, in);
  require_ok(check("fused with empty context vs buffer reference", truth, f32, run_gpu(Kernel::kFused, in)));
})

GPU_PROPERTY(NonPowerOfTwoHeadDims, "Dh not a power of two, every kernel", [] {
  const Shape s = draw_shape(draw_mask(), 4, 16, kNonPowerOfTwoHeadDims);
  const Inputs in = random_inputs(s, draw_seed());
  for (Kernel k : {Kernel::kShared, Kernel::kBuffer, Kernel::kFused, Kernel::kSplit}) require_ok(run_and_check(k, in));
})

GPU_PROPERTY(BatchSmallerThanTile, "every B from 1 to two tiles plus one", [] {
  Shape s;
  s.head_dim = *rc::gen::elementOf(kHeadDims);
  s.heads = *rc::gen::inRange(1, 3);
  s.queries = *rc::gen::inRange(1, 4);
  s.mask = BufferMask::kDecode;
  s.length = *rc::gen::inRange(0, 7);
  s.capacity = s.length + 1;
  s.context_len = *rc::gen::container<std::vector<int>>(2, rc::gen::inRange(0, 41));
  const Kernel kernel = *rc::gen::elementOf(std::vector<Kernel>{Kernel::kShared, Kernel::kBuffer, Kernel::kFused});
  const std::uint64_t seed = draw_seed();
  const int rows = artabpfn::kernels::attention_rows_per_block(s.head_dim);
  const int tile_samples = (rows + s.queries - 1) / s.queries;
  for (int b = 1; b <= 2 * tile_samples + 1; ++b) {
    s.batch = b;
    s.task_of_sample.assign(static_cast<std::size_t>(b), 0);
    for (int i = 0; i < b; ++i) s.task_of_sample[static_cast<std::size_t>(i)] = static_cast<std::int32_t>((seed >> (i % 60)) & 1u);
    require_ok(run_and_check(kernel, random_inputs(s, seed + static_cast<std::uint64_t>(b))));
  }
})

// Each path against its reference, then the two against each other within the sum of their
// limits: this also fails where the split kernels and reference::merge share an error.
GPU_PROPERTY(SplitEqualsFused, "context + buffer + merge equals fused, and both match the reference", [] {
  const Inputs in = random_inputs(draw_shape(draw_mask()), draw_seed());
  const Outputs<float> fused = run_gpu(Kernel::kFused, in), split = run_gpu(Kernel::kSplit, in);
  const Verdict fused_verdict = check(kernel_name(Kernel::kFused), reference<double>(Kernel::kFused, in),
                                      reference<float>(Kernel::kFused, in), fused);
  const Verdict split_verdict = check(kernel_name(Kernel::kSplit), reference<double>(Kernel::kSplit, in),
                                      reference<float>(Kernel::kSplit, in), split);
  RC_LOG() << in.shape.describe() << "\n";
  require_ok(fused_verdict);
  require_ok(split_verdict);
  require_ok(check_agreement("split vs fused", split, split_verdict, fused, fused_verdict));
})

// Factor tolerance::kExtremeScoreFactor: with scores ~1e3 both errors are set by the float32
// rounding of the scores (see tolerance/constants.hpp). At least 2 heads and 8 samples, so that a case's max
// error is taken over >= 16 rows (fewer rows make the ratio of two maxima heavy-tailed).
GPU_PROPERTY(ExtremeScoreRanges, "one source's scores ~1e3 above the other's", [] {
  Shape s = draw_shape(draw_mask(), 2, 12);
  s.heads = std::max(s.heads, 2);
  s.batch = std::max(s.batch, 8);
  s.task_of_sample = *rc::gen::container<std::vector<std::int32_t>>(static_cast<std::size_t>(s.batch),
                                                                     rc::gen::inRange<std::int32_t>(0, s.tasks()));
  for (int& nc : s.context_len) nc = std::max(nc, 1);
  if (s.mask == BufferMask::kDecode) {
    s.length = std::max(s.length, 1);
    s.capacity = std::max(s.capacity, s.length);
  }
  const bool context_dominates = *rc::gen::arbitrary<bool>();
  RC_TAG(context_dominates ? "context dominates" : "buffer dominates");
  const Inputs in = dominated_inputs(s, draw_seed(), context_dominates);
  const Outputs<float> fused = run_gpu(Kernel::kFused, in);
  for (float x : fused.out) RC_ASSERT(std::isfinite(x));
  for (float x : fused.lse) RC_ASSERT(std::isfinite(x));  // every row sees a context key (Nc >= 1)
  require_ok(check("fused_attention", reference<double>(Kernel::kFused, in), reference<float>(Kernel::kFused, in), fused,
                   tolerance::kExtremeScoreFactor));
  require_ok(run_and_check(Kernel::kSplit, in, tolerance::kExtremeScoreFactor));
})

GPU_PROPERTY(Determinism, "same inputs twice give bitwise equal results", [] {
  const Inputs in = random_inputs(draw_shape(draw_mask()), draw_seed());
  for (Kernel k : {Kernel::kShared, Kernel::kBuffer, Kernel::kFused, Kernel::kSplit}) {
    const Outputs<float> a = run_gpu(k, in), b = run_gpu(k, in);
    std::string where;
    if (!tolerance::bitwise_equal(a.out, b.out, &where) || !tolerance::bitwise_equal(a.lse, b.lse, &where))
      RC_FAIL(std::string(kernel_name(k)) + " differs between two runs at " + where);
  }
})

GPU_PROPERTY(ContextPrefetchChangesNoBit, "context keys copied before the wait give bitwise the same results", [] {
  Inputs in = random_inputs(draw_shape(draw_mask()), draw_seed());
  for (Kernel k : {Kernel::kShared, Kernel::kFused, Kernel::kSplit}) {
    in.context_prefetch = false;
    const Outputs<float> plain = run_gpu(k, in);
    in.context_prefetch = true;
    const Outputs<float> prefetched = run_gpu(k, in);
    std::string where;
    if (!tolerance::bitwise_equal(plain.out, prefetched.out, &where) || !tolerance::bitwise_equal(plain.lse, prefetched.lse, &where))
      RC_FAIL(std::string(kernel_name(k)) + " with the context prefetch differs at " + where);
  }
  require_ok(run_and_check(Kernel::kFused, in));
})

GPU_PROPERTY(BatchInvariance, "a sample's output does not depend on B, its position or other samples", [] {
  const Shape s = draw_shape(draw_mask());
  const Inputs a = random_inputs(s, draw_seed());
  const int src = *rc::gen::inRange(0, s.batch);
  Shape s2 = s;
  s2.batch = *rc::gen::inRange(1, s.batch + 40);
  const int dst = *rc::gen::inRange(0, s2.batch);
  s2.task_of_sample = *rc::gen::container<std::vector<std::int32_t>>(static_cast<std::size_t>(s2.batch),
                                                                      rc::gen::inRange<std::int32_t>(0, s.tasks()));
  s2.task_of_sample[static_cast<std::size_t>(dst)] = s.task(src);
  Inputs b = random_inputs(s2, draw_seed());
  b.context_k = a.context_k;
  b.context_v = a.context_v;
  b.context_offset = a.context_offset;
  const auto dh = static_cast<std::size_t>(s.head_dim);
  for (int h = 0; h < s.heads; ++h) {
    std::memcpy(&b.q[b.q_index(dst, h, 0)], &a.q[a.q_index(src, h, 0)], static_cast<std::size_t>(s.queries) * dh * sizeof(float));
    if (s.capacity > 0) {
      std::memcpy(&b.buffer_k[b.buffer_index(dst, h, 0)], &a.buffer_k[a.buffer_index(src, h, 0)],
                  static_cast<std::size_t>(s.capacity) * dh * sizeof(float));
      std::memcpy(&b.buffer_v[b.buffer_index(dst, h, 0)], &a.buffer_v[a.buffer_index(src, h, 0)],
                  static_cast<std::size_t>(s.capacity) * dh * sizeof(float));
    }
  }
  const Kernel kernel = *rc::gen::elementOf(std::vector<Kernel>{Kernel::kShared, Kernel::kBuffer, Kernel::kFused});
  const Outputs<float> ra = run_gpu(kernel, a), rb = run_gpu(kernel, b);
  const std::size_t n = static_cast<std::size_t>(s.heads) * static_cast<std::size_t>(s.queries);
  const std::vector<float> out_a(ra.out.begin() + static_cast<std::ptrdiff_t>(a.q_index(src, 0, 0)),
                                 ra.out.begin() + static_cast<std::ptrdiff_t>(a.q_index(src, 0, 0) + n * dh));
  const std::vector<float> out_b(rb.out.begin() + static_cast<std::ptrdiff_t>(b.q_index(dst, 0, 0)),
                                 rb.out.begin() + static_cast<std::ptrdiff_t>(b.q_index(dst, 0, 0) + n * dh));
  const std::vector<float> lse_a(ra.lse.begin() + static_cast<std::ptrdiff_t>(a.q_index(src, 0, 0) / dh),
                                 ra.lse.begin() + static_cast<std::ptrdiff_t>(a.q_index(src, 0, 0) / dh + n));
  const std::vector<float> lse_b(rb.lse.begin() + static_cast<std::ptrdiff_t>(b.q_index(dst, 0, 0) / dh),
                                 rb.lse.begin() + static_cast<std::ptrdiff_t>(b.q_index(dst, 0, 0) / dh + n));
  std::string where;
  if (!tolerance::bitwise_equal(out_a, out_b, &where) || !tolerance::bitwise_equal(lse_a, lse_b, &where))
    RC_FAIL(std::string(kernel_name(kernel)) + ": sample " + std::to_string(src) + " of B=" + std::to_string(s.batch) +
            " vs sample " + std::to_string(dst) + " of B=" + std::to_string(s2.batch) + ": " + where);
})

GPU_PROPERTY(SeveralTasksOneLaunch, "3..6 tasks with different Nc (one of them 0) in one launch", [] {
  Shape s = draw_shape(draw_mask(), 6, 24);
  const int tasks = *rc::gen::inRange(3, 7);
  s.context_len = *rc::gen::container<std::vector<int>>(static_cast<std::size_t>(tasks), rc::gen::inRange(1, 150));
  s.context_len[static_cast<std::size_t>(*rc::gen::inRange(0, tasks))] = 0;
  s.task_of_sample = *rc::gen::container<std::vector<std::int32_t>>(static_cast<std::size_t>(s.batch),
                                                                     rc::gen::inRange<std::int32_t>(0, tasks));
  const Inputs in = random_inputs(s, draw_seed());
  for (Kernel k : {Kernel::kShared, Kernel::kFused, Kernel::kSplit}) require_ok(run_and_check(k, in));
})

// --- merge ---------------------------------------------------------------------------------------

namespace {

MergeInputs draw_merge(double lse_scale, double empty_fraction) {
  const auto rows = static_cast<std::int64_t>(*rc::gen::inRange(1, 400));
  const int dh = *rc::gen::inRange(1, 257);
  return random_merge_inputs(rows, dh, draw_seed(), lse_scale, empty_fraction);
}

MergeInputs swapped(const MergeInputs& in) {
  MergeInputs s = in;
  std::swap(s.out1, s.out2);
  std::swap(s.lse1, s.lse2);
  return s;
}

}  // namespace

GPU_PROPERTY(MergeMatchesReference, "merge_attention_states vs double reference", [] {
  const double scale = *rc::gen::elementOf(std::vector<double>{1.0, 10.0, 100.0, 1e4});
  const MergeInputs in = draw_merge(scale, 0.2);
  require_ok(check("merge", merge_reference<double>(in), merge_reference<float>(in), run_merge_gpu(in)));
})

GPU_PROPERTY(MergeIdentityOfEmptyState, "(0, -inf) is the identity of merge, both empty give (0, -inf)", [] {
  MergeInputs in = draw_merge(10.0, 0.0);
  for (float& l : in.lse2) l = -std::numeric_limits<float>::infinity();
  for (float& o : in.out2) o = 0.f;
  std::string where;
  const Outputs<float> left = run_merge_gpu(in), right = run_merge_gpu(swapped(in));
  RC_ASSERT(tolerance::bitwise_equal(left.out, in.out1, &where));
  RC_ASSERT(tolerance::bitwise_equal(left.lse, in.lse1, &where));
  RC_ASSERT(tolerance::bitwise_equal(right.out, in.out1, &where));
  RC_ASSERT(tolerance::bitwise_equal(right.lse, in.lse1, &where));
  MergeInputs empty = in;
  empty.lse1 = empty.lse2;
  empty.out1 = empty.out2;
  const Outputs<float> both = run_merge_gpu(empty);
  for (float x : both.out) RC_ASSERT(x == 0.f);
  for (float x : both.lse) RC_ASSERT(x == -std::numeric_limits<float>::infinity());
})

GPU_PROPERTY(MergeOrderIndependent, "merge(a, b) == merge(b, a) bit for bit", [] {
  const MergeInputs in = draw_merge(*rc::gen::elementOf(std::vector<double>{1.0, 100.0, 1e4}), 0.2);
  const Outputs<float> ab = run_merge_gpu(in), ba = run_merge_gpu(swapped(in));
  std::string where;
  if (!tolerance::bitwise_equal(ab.out, ba.out, &where) || !tolerance::bitwise_equal(ab.lse, ba.lse, &where)) RC_FAIL("merge(a,b) != merge(b,a) at " + where);
})

GPU_PROPERTY(MergeLargeLseNoOverflow, "LSE of +-1e4: no overflow, no NaN, within the rule", [] {
  const MergeInputs in = draw_merge(1e4, 0.1);
  const Outputs<float> got = run_merge_gpu(in);
  for (float x : got.out) RC_ASSERT(std::isfinite(x));
  for (std::size_t r = 0; r < got.lse.size(); ++r)
    RC_ASSERT(std::isfinite(got.lse[r]) || (std::isinf(in.lse1[r]) && std::isinf(in.lse2[r]) && got.lse[r] < 0));
  require_ok(check("merge, |lse| ~ 1e4", merge_reference<double>(in), merge_reference<float>(in), got));
})

GPU_PROPERTY(MergeInPlace, "in place (out aliases part 1) equals out of place bit for bit", [] {
  const MergeInputs in = draw_merge(*rc::gen::elementOf(std::vector<double>{1.0, 1e4}), 0.2);
  const Outputs<float> a = run_merge_gpu(in, false), b = run_merge_gpu(in, true);
  std::string where;
  if (!tolerance::bitwise_equal(a.out, b.out, &where) || !tolerance::bitwise_equal(a.lse, b.lse, &where)) RC_FAIL("in place differs at " + where);
})
