#pragma once
// Attention kernels of the AR decode step and the teacher-forcing pass. float32 in and out,
// float32 accumulation, no TF32. Scores are q.k / sqrt(Dh); every kernel returns the output and
// the natural-log log-sum-exp (LSE) per query; a query with no visible key gives (0, -inf).
//
// Layouts (row-major, contiguous):
//   q, out      [B, H, Lq, Dh]   lse [B, H, Lq]
//   context K/V of task t: a [H, Nc_t, Dh] block starting at element context_offset[t]
//               (blocks of all tasks in one allocation, stored once per task, never per sample)
//   task_of_sample [B] int32: which task's context sample b attends to
//   buffer K/V  [B, H, buffer_capacity, Dh], rows 0..buffer_len-1 valid
//
// Buffer visibility (docs/model.md, "Who sees whom"):
//   kDecode:         every query sees buffer rows 0..buffer_len-1 (the step's rows: buffer t-1
//                    after its K/V are appended, and target t)
//   kTeacherForcing: Lq = 2 * buffer_len; query j < buffer_len is buffer j and sees rows 0..j;
//                    query buffer_len + t is target t and sees rows 0..t-1
#include <cuda_runtime.h>

#include <cstdint>

namespace artabpfn::kernels {

enum class BufferMask { kDecode, kTeacherForcing };

struct QueryBlock {
  const float* q;  // [B, H, Lq, Dh]
  int batch, heads, queries, head_dim;
  // 0: the [B, H, Lq, Dh] layout above. > 0: rows layout, query (b, h, i) at
  // q + (b * Lq + i) * row_stride + h * Dh (e.g. the q part of a fused [N, 3D] q/k/v product).
  std::int64_t row_stride = 0;
};

struct ContextKV {
  const float* k;
  const float* v;
  const std::int64_t* context_offset;  // [T] element offsets of each task's [H, Nc_t, Dh] block
  const std::int32_t* context_len;     // [T] Nc_t >= 0
  const std::int32_t* task_of_sample;  // [B]
  // Set only where k, v and the three index arrays were all written before the kernel launched
  // just before this one in the stream (a context cache built by an earlier prefill): the kernels
  // then start copying the first context keys before waiting for that kernel (kernels/launch.cuh).
  bool complete_before_previous_kernel = false;
};

struct BufferKV {
  const float* k;  // [B, H, capacity, Dh]
  const float* v;
  int capacity;
  int length;  // valid rows, the same for every sample of the launch
  BufferMask mask;
  // kDecode only: when set, the kernel reads the valid row count from this device int instead
  // of `length` (which then only bounds it: 0 <= *device_length <= capacity), so one launch
  // (one CUDA graph node) serves every decode step.
  const int* device_length = nullptr;
};

struct AttentionOut {
  float* out;  // [B, H, Lq, Dh]
  float* lse;  // [B, H, Lq]
  // true: rows layout instead, out [B, Lq, H, Dh] (= [B * Lq, D] rows) and lse [B, Lq, H];
  // merge_attention_states works on either layout (it is elementwise per (row, head)).
  bool rows_layout = false;
};

// Context part alone (split path, part 1). Samples of one task share each K/V tile.
void shared_context_attention(const QueryBlock& q, const ContextKV& context, const AttentionOut& out,
                              cudaStream_t stream);
// Buffer part alone (split path, part 2).
void buffer_attention(const QueryBlock& q, const BufferKV& buffer, const AttentionOut& out, cudaStream_t stream);
// Merge of two partial states over `rows` queries of head_dim: (o1, lse1) + (o2, lse2) -> (o, lse).
// May run in place (out == first).
void merge_attention_states(const float* out1, const float* lse1, const float* out2, const float* lse2,
                            std::int64_t rows, int head_dim, const AttentionOut& out, cudaStream_t stream);
// One online softmax over context and buffer together; no partial state goes through memory.
void fused_attention(const QueryBlock& q, const ContextKV& context, const BufferKV& buffer, const AttentionOut& out,
                     cudaStream_t stream);

// Helper (for tests and benchmarks): query rows of one head that one thread block of the
// attention kernels above holds, for this head_dim (16 for head_dim <= 32, 8 up to 64, 4 up to
// 256). A tile covers rows b * Lq + i of one head, so it spans about rows / Lq samples.
int attention_rows_per_block(int head_dim);

// Helper (for tests): the blocks an SM that the instance a launch takes on the current device is
// compiled for, 4 or 2, given its query rows of one head (B * Lq) and heads (row_tile_attention.cu,
// "Occupancy"). Every instance computes the same bits.
int attention_blocks_per_sm(int head_dim, std::int64_t rows_per_head, int heads);

}  // namespace artabpfn::kernels
