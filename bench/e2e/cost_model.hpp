#pragma once
// FLOPs and minimal bytes of the engine's jobs, counted from the model's shapes, and the time
// floor they imply on given ceilings (bench/engine/NOTES.md, "End-to-end benchmarks", is the
// method). Header-only and CUDA-free: the CPU unit tests check it against a hand count.
//
// Conventions (the same as NOTES.md's count of one decode step):
// - FLOPs: the matrix products and the attention's dot products only; a multiply-add counts 2.
//   LayerNorm, GELU, softmax exponentials, embedding and the mixture's per-component scalar math
//   are O(D) or O(K) per row against O(D^2) and are left out.
// - Per row and layer: Wv_f, Wo_f (the feature attention with one feature item), Wq|Wk|Wv, Wo:
//   6 D^2 multiply-adds; the feed-forward 2 D d_ff. (The engine folds Wo_f Wv_f into one map
//   since v6, 5 D^2; the count keeps the model's two maps, so its FLOP floor is up to 10% above
//   what the folded products need, and the e2e runs before and after v6 stay comparable.) Attention per query row and visible key:
//   H heads x (Dh for q.k + Dh for p.v) = 2 D multiply-adds. Head per scored row:
//   D d_ff + d_ff 3K.
// - Rows that must be encoded: every context row once (prefill: each sees all Nc context rows),
//   per sequence the Nt target rows and the Nt-1 buffer rows 0..Nt-2 (buffer Nt-1 is never
//   read). Target t sees the context and buffers 0..t-1 (Nc + t keys); buffer j sees the context
//   and buffers 0..j (Nc + j + 1 keys). Sampling and teacher forcing do the same arithmetic.
// - Minimal bytes (float32, HBM): each input of a dependent unit read once, each output written
//   once; activations that a fused kernel could keep on chip are not counted. A sampling call
//   is a prefill and Nt dependent steps (a step needs the previous step's draw), and per step
//   reads all weights, the task's context K/V and the visible buffer K/V of every sample, and
//   writes the appended buffer K/V. A teacher-forcing pass is one unit: weights and context K/V
//   read once, the values read and the log densities written; its buffer K/V (Nt x 2D floats per
//   sequence and layer) could stay on chip. The prefill reads the weights and the context values
//   and writes the context K/V.
// - Weights counted: every layer's matrices, biases and LayerNorm parameters, the head and the
//   final LayerNorm; the embedding tables (under 0.1 MB on the paper config) are left out.
#include <algorithm>
#include <cstdint>
#include <string>

namespace artabpfn::bench {

struct Shapes {
  std::int64_t d = 128, heads = 4, layers = 12, d_ff = 256, components = 20;
  std::int64_t features = 2;  // feature columns of the task (the benchmark's random tasks have 2)
};

struct Cost {
  double flops = 0, bytes = 0;
  Cost& operator+=(const Cost& o) {
    flops += o.flops;
    bytes += o.bytes;
    return *this;
  }
};

inline constexpr double kFloat = 4.0;  // bytes

// FLOPs of one row through the products of one layer.
inline double row_layer_flops(const Shapes& s) { return 2.0 * double(6 * s.d * s.d + 2 * s.d * s.d_ff); }
// FLOPs of one query row against one key in one layer (all heads).
inline double attention_key_flops(const Shapes& s) { return 4.0 * double(s.d); }
// FLOPs of the mixture head on one row.
inline double head_row_flops(const Shapes& s) { return 2.0 * double(s.d * s.d_ff + s.d_ff * 3 * s.components); }

// Floats of the weights a pass over all layers and the head reads.
inline double weight_floats(const Shapes& s) {
  const double layer = double(6 * s.d * s.d + 2 * s.d * s.d_ff) + double(s.d_ff + s.d) + 6.0 * double(s.d);
  const double head = double(s.d * s.d_ff + s.d_ff) + double(s.d_ff * 3 * s.components + 3 * s.components);
  return double(s.layers) * layer + head + 2.0 * double(s.d);
}

// Sum over j = 0..n-1 of (a + j).
inline double arithmetic_sum(double a, std::int64_t n) { return n <= 0 ? 0.0 : double(n) * a + double(n) * double(n - 1) / 2.0; }

// Query-key pairs of one sequence of Nt targets (and Nt-1 buffers) over Nc context rows.
inline double sequence_attention_pairs(std::int64_t nc, std::int64_t nt) {
  return arithmetic_sum(double(nc), nt) + arithmetic_sum(double(nc + 1), nt - 1);
}

// The prefill of one task of Nc context rows.
inline Cost prefill_cost(const Shapes& s, std::int64_t nc) {
  Cost c;
  c.flops = double(nc) * double(s.layers) * row_layer_flops(s) + double(nc) * double(nc) * double(s.layers) * attention_key_flops(s);
  c.bytes = kFloat * (weight_floats(s) + double(nc) * double(s.features + 1) + 2.0 * double(s.layers * nc * s.d));
  return c;
}

// Decode step t of b samples of one task: target t (and buffer t-1 when t > 0), sampling included.
inline Cost step_cost(const Shapes& s, std::int64_t b, std::int64_t nc, std::int64_t t) {
  const double rows = double(b) * (t > 0 ? 2.0 : 1.0);
  Cost c;
  c.flops = rows * double(s.layers) * (row_layer_flops(s) + double(nc + t) * attention_key_flops(s)) +
            double(b) * head_row_flops(s);
  const double kv_row = 2.0 * double(s.layers * s.d);  // K and V of one row in every layer
  c.bytes = kFloat * (weight_floats(s) + kv_row * double(nc) + double(b) * kv_row * double(t) +
                      (t > 0 ? double(b) * kv_row : 0.0) + double(b) * double(s.features + 2));
  return c;
}

// sample_sequence: prefill, then Nt dependent decode steps of b samples.
inline Cost sample_cost(const Shapes& s, std::int64_t b, std::int64_t nc, std::int64_t nt) {
  Cost c = prefill_cost(s, nc);
  for (std::int64_t t = 0; t < nt; ++t) c += step_cost(s, b, nc, t);
  return c;
}

// evaluate_joint_density of r value sets: prefill, then one teacher-forcing pass.
inline Cost density_cost(const Shapes& s, std::int64_t r, std::int64_t nc, std::int64_t nt) {
  Cost c = prefill_cost(s, nc);
  if (nt <= 0) return c;
  const double rows = double(r) * double(2 * nt - 1);
  c.flops += rows * double(s.layers) * row_layer_flops(s) +
             double(r) * sequence_attention_pairs(nc, nt) * double(s.layers) * attention_key_flops(s) +
             double(r) * double(nt) * head_row_flops(s);
  c.bytes += kFloat * (weight_floats(s) + 2.0 * double(s.layers * nc * s.d) + double(r) * double(nt) * 2.0 +
                       double(nt) * double(s.features));
  return c;
}

// FLOPs the reencode baseline computes (engine/reencode.cpp): at every step t, each of the b
// sequences re-encodes its own context (a prefill of Nc rows) and a teacher-forcing pass of t+1
// buffer and t+1 target rows, with the head on the t+1 targets.
inline double reencode_flops(const Shapes& s, std::int64_t b, std::int64_t nc, std::int64_t nt) {
  double f = 0;
  for (std::int64_t t = 0; t < nt; ++t) {
    const std::int64_t l = t + 1;
    const double pairs = arithmetic_sum(double(nc), l) + arithmetic_sum(double(nc + 1), l);
    f += prefill_cost(s, nc).flops + 2.0 * double(l) * double(s.layers) * row_layer_flops(s) +
         pairs * double(s.layers) * attention_key_flops(s) + double(l) * head_row_flops(s);
  }
  return double(b) * f;
}

// --- Ceilings and floors --------------------------------------------------------------------

struct Ceilings {
  double flops_per_s = 0;  // FP32 FMA rate (no tensor cores: the float32 contract excludes TF32)
  double bytes_per_s = 0;  // device memory bandwidth, bytes read + written per second
};

struct Floor {
  double compute_s = 0, memory_s = 0, floor_s = 0;
  std::string bound;  // "compute" or "memory"
};

// The time floor: compute and memory traffic fully overlapped, so the larger of the two.
inline Floor time_floor(const Cost& c, const Ceilings& ceil) {
  Floor f;
  f.compute_s = c.flops / ceil.flops_per_s;
  f.memory_s = c.bytes / ceil.bytes_per_s;
  f.floor_s = std::max(f.compute_s, f.memory_s);
  f.bound = f.compute_s >= f.memory_s ? "compute" : "memory";
  return f;
}

// Achieved fraction of the floor: floor / measured (1 = at the floor).
inline double floor_fraction(const Floor& f, double measured_s) { return measured_s > 0 ? f.floor_s / measured_s : 0.0; }

// --- Device memory a call asks for, before allocating -----------------------------------------
// These mirror the engine's own planning (engine/memory_plan.cpp, engine/workspace.hpp), so
// "does not fit" here means "the engine would split the call into chunks".

inline std::int64_t workspace_floats_per_row(const Shapes& s) { return 15 * s.d + s.d_ff + 3 * s.components + 3 * s.heads; }

// The context cache and the prefill's workspace of one task.
inline double prefill_bytes(const Shapes& s, std::int64_t nc) {
  return kFloat * double(2 * s.layers * nc * s.d + nc * workspace_floats_per_row(s));
}

inline double sample_bytes(const Shapes& s, std::int64_t b, std::int64_t nc, std::int64_t nt) {
  const std::int64_t per = s.layers * 2 * std::max<std::int64_t>(nt, 1) * s.d + 2 * workspace_floats_per_row(s) + 2 * nt + 8;
  return prefill_bytes(s, nc) + kFloat * double(b) * double(per);
}

inline double density_bytes(const Shapes& s, std::int64_t r, std::int64_t nc, std::int64_t nt) {
  const std::int64_t per = 2 * nt * (workspace_floats_per_row(s) + 2 * s.d) + 8 * nt;
  return prefill_bytes(s, nc) + kFloat * double(r) * double(per);
}

inline double reencode_bytes(const Shapes& s, std::int64_t b, std::int64_t nc, std::int64_t nt) {
  const std::int64_t per = nc * (workspace_floats_per_row(s) + 2 * s.layers * s.d) +
                           2 * nt * (workspace_floats_per_row(s) + 2 * s.d) + 8 * nt;
  return kFloat * double(b) * double(per);
}

}  // namespace artabpfn::bench
