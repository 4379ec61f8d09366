#include "conformance/float32_cpu/attention.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "conformance/float32_cpu/mutants.hpp"

namespace artabpfn::conformance::cpu {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr int kMaxGridY = 65535;

// How one phase computes: the precision its products' operands are rounded to (Q, K and V once,
// on copies; P per key), and the faults that change what the running sum and output accumulate
// in and how the scores are kept.
struct Arithmetic {
  Precision operands = Precision::kFloat32;
  bool bf16_sums = false;    // bf16_accumulate
  bool fp16_scores = false;  // fp16_score_overflow
  float sum(float x) const { return bf16_sums ? round_bf16(x) : x; }
  float score(float s) const { return fp16_scores ? round_fp16(s) : s; }
  float probability(float p) const { return round_operand(operands, p); }
};

// The keys of one phase as a row reads them: row j of K and V at k + j * Dh, the first `count`
// of them visible. length_mask: count is the phase's length (the context, or the buffer under
// the decode mask), the mask whose last block the last_block_mask faults get wrong.
struct PhaseKeys {
  const float* k;
  const float* v;
  int count;
  bool length_mask;
};

// One query row's online-softmax state: the output o, unnormalised and relative to the running
// max m, and the running sum l of exp(s - m).
struct RowState {
  std::vector<float> o;
  float m = kNegInf, l = 0.0f;
  bool seen = false;                 // a block with a key was added
  float first_block_max = kNegInf;  // that first block's max (the lse_first_block_max fault)

  void reset() {
    std::fill(o.begin(), o.end(), 0.0f);
    m = first_block_max = kNegInf;
    l = 0.0f;
    seen = false;
  }
};

// Adds one phase's visible keys to a row's state, kKeyBlock keys a block: the block's scores and
// their max, the running max raised to it with l and o rescaled by exp(m_old - m_new), then
// p = exp(s - m_new) summed into l and p v into o.
void add_phase(const float* q, int dh, float scale, const PhaseKeys& keys, const Arithmetic& a, RowState& st) {
  float s[kKeyBlock + 1];  // the block's scores (+1: the padding key of last_block_mask_plus_one)
  for (int j0 = 0; j0 < keys.count; j0 += kKeyBlock) {
    const int block_end = j0 + kKeyBlock;
    int end = std::min(block_end, keys.count);  // keys j0..end-1 are visible
    bool padding_key = false;                   // the zero-filled slot past the length counted as a key
    if (keys.length_mask && block_end >= keys.count) {
      if (mutant(Mutant::kLastBlockMaskMinusOne)) --end;
      if (mutant(Mutant::kLastBlockMaskPlusOne)) padding_key = keys.count < block_end;
    }
    const int real = end - j0, n = real + (padding_key ? 1 : 0);
    if (n == 0) continue;
    float block_max = kNegInf;
    for (int x = 0; x < real; ++x) {
      const float* k = keys.k + std::int64_t(j0 + x) * dh;
      float dot = 0.0f;
      for (int d = 0; d < dh; ++d) dot += q[d] * k[d];
      s[x] = a.score(dot * scale);
      block_max = std::max(block_max, s[x]);
    }
    if (padding_key) {
      s[real] = 0.0f;  // a zero key's score
      block_max = std::max(block_max, 0.0f);
    }
    if (!st.seen) st.first_block_max = block_max;
    st.seen = true;
    const float m = std::max(st.m, block_max);
    const float alpha = std::exp(st.m - m);  // 0 for the first block (st.m = -inf)
    st.l = a.sum(st.l * alpha);
    if (!mutant(Mutant::kNoRescale))
      for (float& o : st.o) o = a.sum(o * alpha);
    for (int x = 0; x < n; ++x) {
      const float p = std::exp(s[x] - m);
      st.l = a.sum(st.l + p);
      if (x == real) break;  // the padding key's value is zero
      const float w = a.probability(p);
      const float* v = keys.v + std::int64_t(j0 + x) * dh;
      for (int d = 0; d < dh; ++d) st.o[std::size_t(d)] = a.sum(st.o[std::size_t(d)] + w * v[d]);
    }
    st.m = m;
  }
}

// A row's output o / l, stored in the precision's format, and its LSE m + log l; (0, -inf) for a
// row that saw no key.
void finish(const RowState& st, int dh, Precision precision, bool context_only, float* out, float* lse) {
  if (!st.seen && !(context_only && mutant(Mutant::kNanEmptyContext))) {
    std::fill(out, out + dh, 0.0f);
    *lse = kNegInf;
    return;
  }
  // (The nan_empty_context mutant arrives here with l = 0: 0 / 0.)
  for (int d = 0; d < dh; ++d) out[d] = round_output(precision, st.o[std::size_t(d)] / st.l);
  *lse = (mutant(Mutant::kLseFirstBlockMax) ? st.first_block_max : st.m) + std::log(st.l);
  if (mutant(Mutant::kLseBase2)) *lse = *lse / std::log(2.0f);
}

// Number of buffer keys query i sees (kernels/attention.hpp), as the mask faults change it.
int buffer_count(const Buffer& b, int i) {
  if (!b.teacher_forcing) return b.length;
  int limit = i < b.length ? i + 1 : i - b.length;  // buffer i sees 0..i, target t sees 0..t-1
  if (i >= b.length && mutant(Mutant::kTargetSeesItself)) ++limit;
  if (mutant(Mutant::kTfMaskTileBoundary) && limit > 0 && limit % kKeyBlock == 0 && limit < b.length)
    limit = std::min(limit + kKeyBlock, b.length);  // the tile that starts at the limit taken as visible
  return limit;
}

// The n floats at `from` as precision p's products read them: `from` itself for float32, else a
// rounded copy kept in `copy`.
const float* operands(const float* from, std::int64_t n, Precision p, std::vector<float>& copy) {
  if (p == Precision::kFloat32) return from;
  copy.assign(from, from + n);
  for (float& x : copy) x = round_operand(p, x);
  return copy.data();
}

void run(const Queries& q, const Context* context, const Buffer* buffer, Precision precision, float* out, float* lse) {
  const int dh = q.head_dim;
  const float scale = mutant(Mutant::kNoScoreScale) ? 1.0f : 1.0f / std::sqrt(static_cast<float>(dh));
  const Arithmetic buffer_arithmetic{precision, mutant(Mutant::kBf16Accumulate), mutant(Mutant::kFp16ScoreOverflow)};
  Arithmetic context_arithmetic = buffer_arithmetic;
  if (mutant(Mutant::kTf32Context) && precision == Precision::kFloat32) context_arithmetic.operands = Precision::kTf32;

  std::vector<float> q_copy, q_buffer_copy, ck_copy, cv_copy, bk_copy, bv_copy;
  const std::int64_t q_size = std::int64_t(q.batch) * q.heads * q.queries * dh;
  const float* q_context = operands(q.q, q_size, context_arithmetic.operands, q_copy);
  const float* q_buffer = buffer_arithmetic.operands == context_arithmetic.operands
                              ? q_context
                              : operands(q.q, q_size, buffer_arithmetic.operands, q_buffer_copy);
  const float *ck = nullptr, *cv = nullptr, *bk = nullptr, *bv = nullptr;
  if (context) {
    std::int64_t extent = 0;
    for (std::size_t t = 0; t < context->offset.size(); ++t)
      extent = std::max(extent, context->offset[t] + std::int64_t(q.heads) * context->head_stride[t] * dh);
    ck = operands(context->k, extent, context_arithmetic.operands, ck_copy);
    cv = operands(context->v, extent, context_arithmetic.operands, cv_copy);
  }
  if (buffer) {
    const std::int64_t extent = std::int64_t(q.batch) * q.heads * buffer->capacity * dh;
    bk = operands(buffer->k, extent, buffer_arithmetic.operands, bk_copy);
    bv = operands(buffer->v, extent, buffer_arithmetic.operands, bv_copy);
  }

  RowState st;
  st.o.resize(std::size_t(dh));
  for (int b = 0; b < q.batch; ++b) {
    if (mutant(Mutant::kGridYLimit) && b >= kMaxGridY) break;  // blocks (b, h) with b >= 65535 never run
    for (int h = 0; h < q.heads; ++h) {
      PhaseKeys context_keys{};
      if (context) {
        const int t = context->task_of_sample[std::size_t(mutant(Mutant::kFirstSampleContext) ? 0 : b)];
        const std::int64_t base =
            context->offset[std::size_t(t)] + std::int64_t(h) * context->head_stride[std::size_t(t)] * dh;
        context_keys = {ck + base, cv + base, context->length[std::size_t(t)], true};
      }
      const std::int64_t buffer_base = buffer ? (std::int64_t(b) * q.heads + h) * buffer->capacity * dh : 0;
      for (int i = 0; i < q.queries; ++i) {
        const std::int64_t row = (std::int64_t(b) * q.heads + h) * q.queries + i;
        st.reset();
        if (context) add_phase(q_context + row * dh, dh, scale, context_keys, context_arithmetic, st);
        if (buffer)
          add_phase(q_buffer + row * dh, dh, scale,
                    {bk + buffer_base, bv + buffer_base, buffer_count(*buffer, i), !buffer->teacher_forcing},
                    buffer_arithmetic, st);
        finish(st, dh, precision, buffer == nullptr, out + row * dh, lse + row);
      }
    }
  }
}

}  // namespace

void shared_context_attention(const Queries& q, const Context& context, float* out, float* lse, Precision precision) {
  run(q, &context, nullptr, precision, out, lse);
}

void buffer_attention(const Queries& q, const Buffer& buffer, float* out, float* lse, Precision precision) {
  run(q, nullptr, &buffer, precision, out, lse);
}

void fused_attention(const Queries& q, const Context& context, const Buffer& buffer, float* out, float* lse,
                     Precision precision) {
  run(q, &context, &buffer, precision, out, lse);
}

void merge_states(const float* out1, const float* lse1, const float* out2, const float* lse2, std::int64_t rows,
                  int head_dim, float* out, float* lse, Precision precision) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const float a = lse1[r], b = lse2[r];
    const float m = std::max(a, b);
    float* o = out + r * head_dim;
    if (m == kNegInf) {  // both parts empty
      std::fill(o, o + head_dim, 0.0f);
      lse[r] = kNegInf;
      continue;
    }
    const float wa = std::exp(a - m), wb = std::exp(b - m);
    const float total = wa + wb;
    for (int d = 0; d < head_dim; ++d) {
      const float o1 = round_input(precision, out1[r * head_dim + d]), o2 = round_input(precision, out2[r * head_dim + d]);
      o[d] = round_output(precision, (wa / total) * o1 + (wb / total) * o2);
    }
    lse[r] = m + std::log(total);
  }
}

}  // namespace artabpfn::conformance::cpu
