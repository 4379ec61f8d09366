#include "kernels/attention/arguments.hpp"

#include <stdexcept>
#include <string>

namespace artabpfn::kernels::detail {
namespace {

void require(bool condition, const char* what, const char* problem) {
  if (!condition) throw std::invalid_argument(std::string(what) + ": " + problem);
}

}  // namespace

std::int64_t check_queries(const QueryBlock& q, const AttentionOut& out, const char* what) {
  require(q.batch >= 0 && q.queries >= 0, what, "batch and queries must be >= 0");
  require(q.heads >= 1, what, "heads must be >= 1");
  require(q.head_dim >= 1 && q.head_dim <= 256, what, "head_dim must be in 1..256");
  require(q.row_stride == 0 || q.row_stride >= static_cast<std::int64_t>(q.heads) * q.head_dim, what,
          "query row stride must be 0 or at least heads * head_dim");
  const std::int64_t rows = static_cast<std::int64_t>(q.batch) * q.heads * q.queries;
  if (rows > 0) require(q.q != nullptr && out.out != nullptr && out.lse != nullptr, what, "null query or output pointer");
  return rows;
}

void check_context(const ContextKV& context, const char* what) {
  require(context.context_offset != nullptr && context.context_len != nullptr && context.task_of_sample != nullptr,
          what, "null context offset, length or task pointer");
  require((context.k == nullptr) == (context.v == nullptr), what, "context K and V must both be given or both absent");
}

void check_buffer(const QueryBlock& q, const BufferKV& buffer, const char* what) {
  require(buffer.length >= 0 && buffer.length <= buffer.capacity, what, "buffer length must be in 0..capacity");
  if (buffer.mask == BufferMask::kTeacherForcing)
    require(q.queries == 2 * buffer.length, what, "teacher forcing needs queries == 2 * buffer length");
  require(buffer.device_length == nullptr || buffer.mask == BufferMask::kDecode, what,
          "a device buffer length is for decode steps only");
  // A device length may name rows at run time, so K/V must be given with it as with host rows.
  require((buffer.length == 0 && buffer.device_length == nullptr) || (buffer.k != nullptr && buffer.v != nullptr),
          what, "null buffer K/V");
}

}  // namespace artabpfn::kernels::detail
