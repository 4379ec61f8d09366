#pragma once
// The attention kernels' argument checks (kernels/attention.hpp), shared by the row-tiled kernels
// and the mixed-precision path's mixed::attention. Each throws std::invalid_argument as
// "<what>: <problem>".
#include <cstdint>

#include "kernels/attention.hpp"

namespace artabpfn::kernels::detail {

// Sizes, head_dim in 1..256 and the row stride; where there are rows (B * H * Lq, returned), the
// query and output pointers too.
std::int64_t check_queries(const QueryBlock& q, const AttentionOut& out, const char* what);
// The index arrays, and K and V both given or both absent.
void check_context(const ContextKV& context, const char* what);
// The length within the capacity, the teacher-forcing shape, K/V where rows are valid, and a
// device length for decode steps only.
void check_buffer(const QueryBlock& q, const BufferKV& buffer, const char* what);

}  // namespace artabpfn::kernels::detail
