#include "conformance/float32_cpu/attention.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "conformance/float32_cpu/mutants.hpp"

namespace artabpfn::conformance::cpu {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr int kMaxGridY = 65535;

struct Key {
  const float* k;
  const float* v;
  bool context;
};

// One query row over keys[0..visible): two-pass softmax in float32.
void attend_row(const float* q, int dh, const std::vector<Key>& keys, std::size_t visible, bool context_only,
                float* out, float* lse) {
  const bool tf32 = mutant(Mutant::kTf32Context);
  const float scale = mutant(Mutant::kNoScoreScale) ? 1.0f : 1.0f / std::sqrt(static_cast<float>(dh));
  std::vector<float> scores(visible);
  float max_score = kNegInf;
  for (std::size_t j = 0; j < visible; ++j) {
    const bool round = tf32 && keys[j].context;
    float dot = 0.0f;
    for (int d = 0; d < dh; ++d)
      dot += round ? round_tf32(q[d]) * round_tf32(keys[j].k[d]) : q[d] * keys[j].k[d];
    scores[j] = dot * scale;
    max_score = std::max(max_score, scores[j]);
  }
  std::fill(out, out + dh, 0.0f);
  if (visible == 0 && !(context_only && mutant(Mutant::kNanEmptyContext))) {
    *lse = kNegInf;  // no visible key: (0, -inf)
    return;
  }
  float denominator = 0.0f;
  for (std::size_t j = 0; j < visible; ++j) {
    const bool round = tf32 && keys[j].context;
    const float p = std::exp(scores[j] - max_score);
    denominator += p;
    for (int d = 0; d < dh; ++d) out[d] += round ? round_tf32(p) * round_tf32(keys[j].v[d]) : p * keys[j].v[d];
  }
  // (The nan_empty_context mutant arrives here with denominator 0: 0 / 0.)
  for (int d = 0; d < dh; ++d) out[d] /= denominator;
  *lse = max_score + std::log(denominator);
  if (mutant(Mutant::kLseBase2)) *lse = *lse / std::log(2.0f);
}

// Number of buffer keys query i sees.
std::size_t buffer_visible(const Buffer& b, int i) {
  if (!b.teacher_forcing) return std::size_t(b.length);
  if (i < b.length) return std::size_t(i + 1);                                       // buffer i sees 0..i
  return std::size_t(mutant(Mutant::kTargetSeesItself) ? i - b.length + 1 : i - b.length);  // target t sees 0..t-1
}

void run(const Queries& q, const Context* context, const Buffer* buffer, float* out, float* lse) {
  const int dh = q.head_dim;
  for (int b = 0; b < q.batch; ++b) {
    if (mutant(Mutant::kGridYLimit) && b >= kMaxGridY) break;  // blocks (b, h) with b >= 65535 never run
    for (int h = 0; h < q.heads; ++h) {
      std::vector<Key> keys;
      std::size_t nc = 0;
      if (context) {
        const int t = context->task_of_sample[std::size_t(mutant(Mutant::kFirstSampleContext) ? 0 : b)];
        nc = std::size_t(context->length[std::size_t(t)]);
        const std::int64_t base = context->offset[std::size_t(t)] + std::int64_t(h) * context->head_stride[std::size_t(t)] * dh;
        for (std::size_t j = 0; j < nc; ++j)
          keys.push_back({context->k + base + std::int64_t(j) * dh, context->v + base + std::int64_t(j) * dh, true});
      }
      if (buffer)
        for (int j = 0; j < buffer->length; ++j) {
          const std::int64_t e = ((std::int64_t(b) * q.heads + h) * buffer->capacity + j) * dh;
          keys.push_back({buffer->k + e, buffer->v + e, false});
        }
      for (int i = 0; i < q.queries; ++i) {
        const std::int64_t row = (std::int64_t(b) * q.heads + h) * q.queries + i;
        const std::size_t visible = nc + (buffer ? buffer_visible(*buffer, i) : 0);
        attend_row(q.q + row * dh, dh, keys, visible, buffer == nullptr, out + row * dh, lse + row);
      }
    }
  }
}

}  // namespace

void shared_context_attention(const Queries& q, const Context& context, float* out, float* lse) {
  run(q, &context, nullptr, out, lse);
}

void buffer_attention(const Queries& q, const Buffer& buffer, float* out, float* lse) { run(q, nullptr, &buffer, out, lse); }

void fused_attention(const Queries& q, const Context& context, const Buffer& buffer, float* out, float* lse) {
  run(q, &context, &buffer, out, lse);
}

void merge_states(const float* out1, const float* lse1, const float* out2, const float* lse2, std::int64_t rows,
                  int head_dim, float* out, float* lse) {
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
    for (int d = 0; d < head_dim; ++d)
      o[d] = (wa / total) * out1[r * head_dim + d] + (wb / total) * out2[r * head_dim + d];
    lse[r] = m + std::log(total);
  }
}

}  // namespace artabpfn::conformance::cpu
