#pragma once
// Row embedding and the data movement between the engine's layouts (docs/model.md, "Rows"):
//   rows    [N, D]             one token per row, heads side by side (what linear() produces)
//   heads   [B, H, L, Dh]      queries and per-sample buffer K/V (what attention reads)
//   context one [H, Nc_t, Dh] block per task, task t's at row_start[t] * D (kernels/attention.hpp)
// Pure copies except embed_rows, whose float32 arithmetic follows the reference's order.
#include <cuda_runtime.h>

#include <cstdint>

namespace artabpfn::kernels {

struct EmbeddingWeights {
  const float* x_weight;   // [D]
  const float* x_bias;     // [D]
  const float* y_weight;   // [D]
  const float* y_bias;     // [D]
  const float* marker;     // [3, D]: 0 target, 1 context, 2 buffer
  const float* ar_tokens;  // [L, D]
  int d_model, buffer_size;
};

// Job row r (r < rows) is written to output row (r / out_group) * out_group_stride +
// out_group_offset + r % out_group (so buffer and target rows can interleave) and is
//   mean_f(x_weight * x[f] + x_bias) + [y_weight * y + y_bias] + marker[marker] + [ar_tokens[p mod L]]
// with x the feature row (x_row ? x_row[r] : r) + x_row_offset of x [*, features],
// y = y[r * y_stride] when y is given, p = position[r] (or position_constant when position is
// null; no token when both are absent, i.e. position_constant < 0).
template <class Out>
struct BasicEmbeddingJob {
  const float* x;
  const std::int32_t* x_row;
  std::int64_t x_row_offset;
  int features;
  const float* y;
  std::int64_t y_stride;
  const std::int32_t* position;
  int position_constant;
  int marker;
  Out* out;  // [*, D]
  std::int64_t out_group, out_group_stride, out_group_offset;
};
using EmbeddingJob = BasicEmbeddingJob<float>;
// The mixed-precision density path's rows (kernels/mixed.hpp): the same sum in double arithmetic,
// stored in double.
using MixedEmbeddingJob = BasicEmbeddingJob<double>;

void embed_rows(const EmbeddingWeights& weights, const EmbeddingJob& job, std::int64_t rows, cudaStream_t stream);
void embed_rows(const EmbeddingWeights& weights, const MixedEmbeddingJob& job, std::int64_t rows, cudaStream_t stream);

// One decode step's rows, the step index t read from device memory (so one launch, or one CUDA
// graph node, serves every step): out [B, 2, D] holds per sample b its buffer row t-1 (value
// y_steps[(t-1) * B + b], AR token t-1; zeros at t = 0, where there is no buffer row) and its
// target row t, feature rows x_base[b] + t - 1 and x_base[b] + t of x [*, features]. Same
// arithmetic as embed_rows.
void embed_decode_step(const EmbeddingWeights& weights, const float* x, const std::int32_t* x_base, int features,
                       const float* y_steps, const int* step, std::int64_t batch, float* out, cudaStream_t stream);

// [B, L, H*Dh] rows -> [B, H, L, Dh]: reads row (b, l) at rows + (b * L + l) * row_stride (0: H * Dh,
// contiguous).
void rows_to_heads(const float* rows, float* heads, std::int64_t batch, int length, int n_heads, int head_dim,
                   cudaStream_t stream, std::int64_t row_stride = 0);

// Context rows [N, D] of all tasks (task t's rows contiguous from row_start[t], row_task[i] its
// task) -> the per-task [H, Nc_t, Dh] blocks at row_start[t] * D.
void rows_to_context_blocks(const float* rows, float* blocks, const std::int32_t* row_task,
                            const std::int64_t* row_start, const std::int32_t* context_len, std::int64_t total_rows,
                            int n_heads, int head_dim, cudaStream_t stream, std::int64_t row_stride = 0);

// Decode step t (read from device memory): appends K and V of buffer row t-1 of every sample
// (k_rows + b * row_stride and v_rows + b * row_stride, D values each) at position t-1 of the
// [B, H, capacity, Dh] buffers; nothing at t = 0. One launch for K and V.
void append_buffer_kv_step(const float* k_rows, const float* v_rows, std::int64_t row_stride, float* k_buffer,
                           float* v_buffer, std::int64_t batch, int capacity, const int* step, int n_heads,
                           int head_dim, cudaStream_t stream);

// A decode step's cache: its q|k|v rows are 2 a sample (row 2b: buffer row t - 1, row 2b + 1:
// target t), and at step t (read from device memory) the k and v of every sample's buffer row join
// its [B, H, capacity, Dh] buffers at position t - 1; nothing at t = 0.
struct KVAppend {
  float* k_buffer;
  float* v_buffer;
  int capacity;
  const int* step;
  int n_heads, head_dim;  // D = n_heads * head_dim
};
// The append above from the q|k|v rows [rows, 3 D] (rows = 2 B): append_buffer_kv_step(qkv + D,
// qkv + 2 D, 6 D, ..., B = rows / 2, ...).
void append_buffer_kv_step(const float* qkv_rows, std::int64_t rows, const KVAppend& append, cudaStream_t stream);

// *counter = value (one thread), and *counter += 1: the decode step index in device memory.
void set_device_int(int* counter, int value, cudaStream_t stream);
void increment_device_int(int* counter, cudaStream_t stream);

// out row i (of width) = in row (i / group) * group_stride + group_offset + i % group.
// Picks e.g. the target row of each sample of a decode step, or the target rows of a sequence.
void gather_rows(const float* in, float* out, std::int64_t rows, int width, std::int64_t group,
                 std::int64_t group_stride, std::int64_t group_offset, cudaStream_t stream);
void gather_rows(const double* in, double* out, std::int64_t rows, int width, std::int64_t group,
                 std::int64_t group_stride, std::int64_t group_offset, cudaStream_t stream);

}  // namespace artabpfn::kernels
