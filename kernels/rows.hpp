#pragma once
// Row embedding and the data movement between the engine's layouts (SPEC.md, "Rows"):
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
struct EmbeddingJob {
  const float* x;
  const std::int32_t* x_row;
  std::int64_t x_row_offset;
  int features;
  const float* y;
  std::int64_t y_stride;
  const std::int32_t* position;
  int position_constant;
  int marker;
  float* out;  // [*, D]
  std::int64_t out_group, out_group_stride, out_group_offset;
};

void embed_rows(const EmbeddingWeights& weights, const EmbeddingJob& job, std::int64_t rows, cudaStream_t stream);

// [B, L, H*Dh] rows -> [B, H, L, Dh] and back.
void rows_to_heads(const float* rows, float* heads, std::int64_t batch, int length, int n_heads, int head_dim,
                   cudaStream_t stream);
void heads_to_rows(const float* heads, float* rows, std::int64_t batch, int length, int n_heads, int head_dim,
                   cudaStream_t stream);

// Context rows [N, D] of all tasks (task t's rows contiguous from row_start[t], row_task[i] its
// task) -> the per-task [H, Nc_t, Dh] blocks at row_start[t] * D.
void rows_to_context_blocks(const float* rows, float* blocks, const std::int32_t* row_task,
                            const std::int64_t* row_start, const std::int32_t* context_len, std::int64_t total_rows,
                            int n_heads, int head_dim, cudaStream_t stream);

// Appends one row per sample to buffer K/V: row b of rows (at rows + b * row_stride, D values)
// goes to buffer[b, :, position, :] of a [B, H, capacity, Dh] buffer.
void append_buffer_rows(const float* rows, std::int64_t row_stride, float* buffer, std::int64_t batch, int capacity,
                        int position, int n_heads, int head_dim, cudaStream_t stream);

// out row i (of width) = in row (i / group) * group_stride + group_offset + i % group.
// Picks e.g. the target row of each sample of a decode step, or the target rows of a sequence.
void gather_rows(const float* in, float* out, std::int64_t rows, int width, std::int64_t group,
                 std::int64_t group_stride, std::int64_t group_offset, cudaStream_t stream);

}  // namespace artabpfn::kernels
