#pragma once
// Test harness of the GPU attention kernels (kernels/attention.hpp), shared by the property suite
// (properties/gpu_attention) and the named edge cases (edge_cases/gpu_attention).
//
// - Inputs: a shape (batch, heads, queries, head_dim, tasks with their context lengths, which task
//   each sample reads, buffer capacity/length/mask) and seeded random values.
// - run_gpu(): uploads the inputs, runs one kernel (or the split path: context + buffer + merge)
//   into GuardedOutput buffers poisoned before the launch, and returns checked_download() of them
//   (throws if a guard band changed or an element was never written).
// - reference<T>(): the same attention through reference::attend / merge, T = double (the truth)
//   or float (the plain float32 baseline of the tolerance rule).
// - check(): the tolerance rule (tolerance/rule.hpp) for out and lse, NaN and infinity mismatches
//   first, with tolerance::kAttentionFloor; records the measured ratios in
//   tolerance::RatioLog::global() under the running test's name.
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/attention.hpp"
#include "tolerance/constants.hpp"

namespace artabpfn::gpu_attention_test {

using kernels::BufferMask;

struct Shape {
  int batch = 1, heads = 1, queries = 1, head_dim = 8;
  std::vector<int> context_len{0};          // per task
  std::vector<std::int32_t> task_of_sample;  // [batch]; empty means every sample reads task 0
  int capacity = 0, length = 0;
  BufferMask mask = BufferMask::kDecode;

  std::string describe() const;
  int tasks() const { return static_cast<int>(context_len.size()); }
  std::int32_t task(int b) const { return task_of_sample.empty() ? 0 : task_of_sample[static_cast<std::size_t>(b)]; }
};

struct Inputs {
  Shape shape;
  std::vector<float> q;                      // [B, H, Lq, Dh]
  std::vector<float> context_k, context_v;   // tasks' [H, Nc_t, Dh] blocks, concatenated
  std::vector<std::int64_t> context_offset;  // [T]
  std::vector<float> buffer_k, buffer_v;     // [B, H, capacity, Dh]
  // ContextKV::complete_before_previous_kernel: true where run_gpu may let the kernels copy context
  // keys before their wait (its uploads are synchronous, so the promise holds).
  bool context_prefetch = false;

  std::size_t q_index(int b, int h, int i) const;       // first element of a query row
  std::size_t buffer_index(int b, int h, int j) const;  // first element of a buffer row
  std::size_t context_index(int t, int h, int j) const;
};

// Standard normal values times the given scales (q, context K, buffer K; V always scale 1).
Inputs random_inputs(const Shape& shape, std::uint64_t seed, float q_scale = 1.f, float context_k_scale = 1.f,
                     float buffer_k_scale = 1.f);

// Context scores ~1e3 above the buffer's (context_dominates) or the buffer's ~1e3 above the
// context's: queries are u + 1e-3 n, dominant keys c u + n with c = 1e3 sqrt(Dh) (1 + 2e-3 z).
Inputs dominated_inputs(const Shape& shape, std::uint64_t seed, bool context_dominates);

// kMixed: kernels::mixed::attention (the mixed-precision path), fused_attention's job in double.
enum class Kernel { kShared, kBuffer, kFused, kSplit, kMixed };
const char* kernel_name(Kernel kernel);

template <class T>
struct Outputs {
  std::vector<T> out;  // [B, H, Lq, Dh]
  std::vector<T> lse;  // [B, H, Lq]
};

Outputs<float> run_gpu(Kernel kernel, const Inputs& inputs);

template <class T>
Outputs<double> reference(Kernel kernel, const Inputs& inputs);

struct Verdict {
  bool ok = true;
  std::string text;              // every failing comparison, described
  tolerance::Check out, lse;     // the rule's checks, where check() made them
};

// out and lse of `got` against the double reference, within factor x the float32 baseline's
// error + tolerance::kAttentionFloor; records the ratios (see above).
Verdict check(const std::string& what, const Outputs<double>& truth, const Outputs<double>& float32,
              const Outputs<float>& got, double factor = tolerance::kAttentionFactor);
// run_gpu + both references + check, in one call.
Verdict run_and_check(Kernel kernel, const Inputs& inputs, double factor = tolerance::kAttentionFactor);

// Two results of the same inputs by two kernels (`a`, `b`: split and fused), each checked against
// its reference (their verdicts): out and lse agree within the sum of the two limits
// (tolerance::check_agreement).
Verdict check_agreement(const std::string& what, const Outputs<float>& a, const Verdict& a_verdict,
                        const Outputs<float>& b, const Verdict& b_verdict);

// kernels::mixed::attention against the double reference: each output must be the double
// result rounded once to float32, |got - truth| <= 2^-24 |truth| + tolerance::kMixedAttentionFloor
// (the double arithmetic's own error), and non-finite values (an empty row's -inf LSE) equal.
Verdict run_and_check_mixed(const Inputs& inputs);

// --- merge ---------------------------------------------------------------------------------------
struct MergeInputs {
  std::int64_t rows = 0;
  int head_dim = 1;
  std::vector<float> out1, lse1, out2, lse2;
};
// Random states: lse from a mix of N(0, lse_scale), -inf (empty part, its out zero) and +-lse_scale.
MergeInputs random_merge_inputs(std::int64_t rows, int head_dim, std::uint64_t seed, double lse_scale,
                                double empty_fraction);
// in_place: the output aliases (out1, lse1).
Outputs<float> run_merge_gpu(const MergeInputs& inputs, bool in_place = false);
template <class T>
Outputs<double> merge_reference(const MergeInputs& inputs);

}  // namespace artabpfn::gpu_attention_test
