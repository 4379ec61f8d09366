// Row embedding and layout moves (kernels/rows.hpp). One thread per output element, 1-D grids
// with grid-stride loops (no 65535 limit), 64-bit indices.
#include <algorithm>

#include "kernels/cuda_check.hpp"
#include "kernels/fault_hooks.cuh"
#include "kernels/launch.cuh"
#include "kernels/rows.hpp"

namespace artabpfn::kernels {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(std::int64_t n) {
  return static_cast<unsigned>(std::min<std::int64_t>((n + kThreads - 1) / kThreads, 1 << 20));
}

// Component c of one embedded row (docs/model.md, "Rows") in T arithmetic (float; double for the
// mixed-precision path); y null: no y term; p < 0: no AR token.
template <class T = float>
__device__ __forceinline__ T embed_value(const EmbeddingWeights& w, const float* x, int features, const float* y,
                                         int marker, int p, int c) {
  T sum = 0;
  for (int f = 0; f < features; ++f) sum += T(w.x_weight[c]) * T(x[f]) + T(w.x_bias[c]);
  T value = sum / static_cast<T>(features);
  if (y) value += T(w.y_weight[c]) * T(*y) + T(w.y_bias[c]);
  value += T(w.marker[marker * w.d_model + c]);
  if (p >= 0) value += T(w.ar_tokens[(p % w.buffer_size) * w.d_model + c]);
  return value;
}

template <class T>
__global__ void embed_kernel(EmbeddingWeights w, BasicEmbeddingJob<T> job, std::int64_t rows) {
  detail::start_after_previous_kernel();
  const std::int64_t total = rows * w.d_model;
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < total;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t r = i / w.d_model;
    const int c = static_cast<int>(i % w.d_model);
    const std::int64_t xr = (job.x_row ? job.x_row[r] : r) + job.x_row_offset;
    const int p = job.position ? job.position[r] : job.position_constant;
    const T value = embed_value<T>(w, job.x + xr * job.features, job.features,
                                   job.y ? job.y + r * job.y_stride : nullptr, job.marker, p, c);
    const std::int64_t out_row = (r / job.out_group) * job.out_group_stride + job.out_group_offset + r % job.out_group;
    job.out[out_row * w.d_model + c] = value;
  }
}

// embed_decode_step's arguments; the base holds the fault hooks (kernels/fault_hooks.cuh: empty
// but in the conformance mutant build).
struct DecodeEmbedding : FaultHooks {
  __host__ __device__ const FaultHooks& faults() const { return *this; }
  EmbeddingWeights w;
  const float* x;
  const std::int32_t* x_base;
  int features;
  const float* y_steps;
  const int* step;
  std::int64_t batch;
  float* out;
};

// out [B, 2, D]: row 2b buffer t-1 (zeros at t = 0), row 2b + 1 target t.
__global__ void embed_decode_kernel(const DecodeEmbedding a) {
  detail::start_after_previous_kernel();
  const EmbeddingWeights& w = a.w;
  const int t = *a.step;
  const std::int64_t total = a.batch * 2 * w.d_model;
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < total;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t row = i / w.d_model, b = row / 2;
    const int c = static_cast<int>(i % w.d_model);
    float value = 0.0f;
    if (row % 2 == 1)
      value = embed_value(w, a.x + (std::int64_t(a.x_base[b]) + t) * a.features, a.features, nullptr, /*marker=*/0,
                          -1, c);
    else if (t > 0)
      value = embed_value(w, a.x + (std::int64_t(a.x_base[b]) + t - 1) * a.features, a.features,
                          a.y_steps + std::int64_t(t - 1) * a.batch + b, /*marker=*/2,
                          a.faults().buffer_ar_position(t - 1), c);
    a.out[i] = value;
  }
}

__global__ void append_kv_step_kernel(const float* k_rows, const float* v_rows, std::int64_t row_stride,
                                      float* k_buffer, float* v_buffer, std::int64_t batch, int capacity,
                                      const int* step, int n_heads, int head_dim) {
  detail::start_after_previous_kernel();
  const int t = *step;
  if (t < 1) return;
  const int d_model = n_heads * head_dim;
  const std::int64_t total = batch * d_model;
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < total;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t b = i / d_model;
    const int c = static_cast<int>(i % d_model), h = c / head_dim, d = c % head_dim;
    const std::int64_t at = ((b * n_heads + h) * capacity + (t - 1)) * head_dim + d;
    k_buffer[at] = k_rows[b * row_stride + c];
    v_buffer[at] = v_rows[b * row_stride + c];
  }
}

__global__ void set_int_kernel(int* counter, int value) {
  detail::start_after_previous_kernel();
  *counter = value;
}
__global__ void increment_int_kernel(int* counter) {
  detail::start_after_previous_kernel();
  *counter += 1;
}

// rows -> heads, indexed over the heads layout.
__global__ void heads_kernel(const float* in, float* out, std::int64_t batch, int length, int n_heads, int head_dim,
                             std::int64_t row_stride) {
  detail::start_after_previous_kernel();
  const std::int64_t total = batch * length * std::int64_t(n_heads) * head_dim;
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < total;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const int d = static_cast<int>(i % head_dim);
    const int l = static_cast<int>((i / head_dim) % length);
    const int h = static_cast<int>((i / (std::int64_t(head_dim) * length)) % n_heads);
    const std::int64_t b = i / (std::int64_t(head_dim) * length * n_heads);
    const std::int64_t row_index = (b * length + l) * row_stride + h * head_dim + d;
    out[i] = in[row_index];
  }
}

__global__ void context_blocks_kernel(const float* rows, float* blocks, const std::int32_t* row_task,
                                      const std::int64_t* row_start, const std::int32_t* context_len,
                                      std::int64_t total_rows, int n_heads, int head_dim, std::int64_t row_stride) {
  detail::start_after_previous_kernel();
  const int d_model = n_heads * head_dim;
  const std::int64_t total = total_rows * d_model;
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < total;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t row = i / d_model;
    const int c = static_cast<int>(i % d_model), h = c / head_dim, d = c % head_dim;
    const int task = row_task[row];
    const std::int64_t start = row_start[task], j = row - start;
    blocks[start * d_model + (h * std::int64_t(context_len[task]) + j) * head_dim + d] = rows[row * row_stride + c];
  }
}

template <class T>
__global__ void gather_kernel(const T* in, T* out, std::int64_t rows, int width, std::int64_t group,
                              std::int64_t group_stride, std::int64_t group_offset) {
  detail::start_after_previous_kernel();
  const std::int64_t total = rows * width;
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < total;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t r = i / width;
    const std::int64_t source = (r / group) * group_stride + group_offset + r % group;
    out[i] = in[source * width + i % width];
  }
}

}  // namespace

void embed_rows(const EmbeddingWeights& weights, const EmbeddingJob& job, std::int64_t rows, cudaStream_t stream) {
  if (rows <= 0) return;
  detail::launch(embed_kernel<float>, blocks_for(rows * weights.d_model), kThreads, 0, stream, weights, job, rows);
}

void embed_rows(const EmbeddingWeights& weights, const MixedEmbeddingJob& job, std::int64_t rows, cudaStream_t stream) {
  if (rows <= 0) return;
  detail::launch(embed_kernel<double>, blocks_for(rows * weights.d_model), kThreads, 0, stream, weights, job, rows);
}

void embed_decode_step(const EmbeddingWeights& weights, const float* x, const std::int32_t* x_base, int features,
                       const float* y_steps, const int* step, std::int64_t batch, float* out, cudaStream_t stream) {
  if (batch <= 0) return;
  const DecodeEmbedding a{FaultHooks::at_launch(), weights, x, x_base, features, y_steps, step, batch, out};
  detail::launch(embed_decode_kernel, blocks_for(batch * 2 * weights.d_model), kThreads, 0, stream, a);
}

void append_buffer_kv_step(const float* k_rows, const float* v_rows, std::int64_t row_stride, float* k_buffer,
                           float* v_buffer, std::int64_t batch, int capacity, const int* step, int n_heads,
                           int head_dim, cudaStream_t stream) {
  const std::int64_t n = batch * n_heads * head_dim;
  if (n <= 0) return;
  detail::launch(append_kv_step_kernel, blocks_for(n), kThreads, 0, stream, k_rows, v_rows, row_stride, k_buffer,
                 v_buffer, batch, capacity, step, n_heads, head_dim);
}

void append_buffer_kv_step(const float* qkv_rows, std::int64_t rows, const KVAppend& append, cudaStream_t stream) {
  const std::int64_t d_model = std::int64_t(append.n_heads) * append.head_dim;
  append_buffer_kv_step(qkv_rows + d_model, qkv_rows + 2 * d_model, 2 * 3 * d_model, append.k_buffer,
                        append.v_buffer, rows / 2, append.capacity, append.step, append.n_heads, append.head_dim,
                        stream);
}

void set_device_int(int* counter, int value, cudaStream_t stream) {
  detail::launch(set_int_kernel, 1, 1, 0, stream, counter, value);
}

void increment_device_int(int* counter, cudaStream_t stream) {
  detail::launch(increment_int_kernel, 1, 1, 0, stream, counter);
}

void rows_to_heads(const float* rows, float* heads, std::int64_t batch, int length, int n_heads, int head_dim,
                   cudaStream_t stream, std::int64_t row_stride) {
  const std::int64_t n = batch * length * std::int64_t(n_heads) * head_dim;
  if (n <= 0) return;
  detail::launch(heads_kernel, blocks_for(n), kThreads, 0, stream, rows, heads, batch, length, n_heads, head_dim,
                 row_stride > 0 ? row_stride : std::int64_t(n_heads) * head_dim);
}

void rows_to_context_blocks(const float* rows, float* blocks, const std::int32_t* row_task,
                            const std::int64_t* row_start, const std::int32_t* context_len, std::int64_t total_rows,
                            int n_heads, int head_dim, cudaStream_t stream, std::int64_t row_stride) {
  const std::int64_t n = total_rows * n_heads * head_dim;
  if (n <= 0) return;
  detail::launch(context_blocks_kernel, blocks_for(n), kThreads, 0, stream, rows, blocks, row_task, row_start,
                 context_len, total_rows, n_heads, head_dim,
                 row_stride > 0 ? row_stride : std::int64_t(n_heads) * head_dim);
}

namespace {
template <class T>
void gather(const T* in, T* out, std::int64_t rows, int width, std::int64_t group, std::int64_t group_stride,
            std::int64_t group_offset, cudaStream_t stream) {
  const std::int64_t n = rows * width;
  if (n <= 0) return;
  detail::launch(gather_kernel<T>, blocks_for(n), kThreads, 0, stream, in, out, rows, width, group, group_stride,
                 group_offset);
}
}  // namespace

void gather_rows(const float* in, float* out, std::int64_t rows, int width, std::int64_t group,
                 std::int64_t group_stride, std::int64_t group_offset, cudaStream_t stream) {
  gather(in, out, rows, width, group, group_stride, group_offset, stream);
}

void gather_rows(const double* in, double* out, std::int64_t rows, int width, std::int64_t group,
                 std::int64_t group_stride, std::int64_t group_offset, cudaStream_t stream) {
  gather(in, out, rows, width, group, group_stride, group_offset, stream);
}

}  // namespace artabpfn::kernels
