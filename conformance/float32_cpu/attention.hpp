#pragma once
// A CPU implementation of the attention contracts with the kernels' interface
// (kernels/attention.hpp), written as flash-style kernels are: a key-blocked online softmax
// (kKeyBlock keys a block: the block's scores, a running max raised block by block, the running
// sum and output rescaled when it rises). It is the implementation under test of the CPU
// mutation tests, not the reference, and shares no code with it; every fault of mutants.hpp has
// a hook here. It computes in one of the precisions of precision.hpp (float32 by default).
//
// Layouts as the kernels': q, out [B, H, Lq, Dh], lse [B, H, Lq]; buffer K/V
// [B, H, capacity, Dh]; task t's context K/V rows of head h start at
// k + offset[t] + h * head_stride[t] * Dh (head_stride = Nc_t for the kernels' compact
// [H, Nc_t, Dh] blocks, Nc_max for a padded [T, H, Nc_max, Dh] tensor).
//
// "Launch" emulation: each (sample, head) is one block, samples along y; only the
// grid_y_limit mutant gives that a limit (65535), as a 2-D CUDA grid would.
#include <cstdint>
#include <vector>

#include "conformance/float32_cpu/precision.hpp"

namespace artabpfn::conformance::cpu {

// Keys per block of the online softmax (a typical key tile of a fast attention kernel).
inline constexpr int kKeyBlock = 64;

struct Queries {
  const float* q;
  int batch, heads, queries, head_dim;
};

struct Context {
  const float* k;
  const float* v;
  std::vector<std::int64_t> offset;  // [T] elements
  std::vector<int> length;           // [T] Nc_t
  std::vector<int> head_stride;      // [T] rows between heads
  std::vector<int> task_of_sample;   // [B]
};

struct Buffer {
  const float* k;
  const float* v;
  int capacity, length;
  bool teacher_forcing;  // Lq = 2 * length; else every query sees rows 0..length-1
};

// out and lse must hold B*H*Lq*Dh and B*H*Lq floats.
void shared_context_attention(const Queries& q, const Context& context, float* out, float* lse,
                              Precision precision = Precision::kFloat32);
void buffer_attention(const Queries& q, const Buffer& buffer, float* out, float* lse,
                      Precision precision = Precision::kFloat32);
void fused_attention(const Queries& q, const Context& context, const Buffer& buffer, float* out, float* lse,
                     Precision precision = Precision::kFloat32);
// The merge of two partial states over disjoint keys; in bf16 and fp16 the partial outputs are
// read and the output written in the format (the LSEs stay float32).
void merge_states(const float* out1, const float* lse1, const float* out2, const float* lse2, std::int64_t rows,
                  int head_dim, float* out, float* lse, Precision precision = Precision::kFloat32);

}  // namespace artabpfn::conformance::cpu
