#pragma once
// How many of a sample's buffer rows query row i sees (kernels/attention.hpp, "Buffer
// visibility"), shared by the row-tiled kernels and the mixed-precision path's mixed::attention.

namespace artabpfn::kernels::detail {

// Decode: all `length` rows (or *device_length, read on the device, where given). Teacher
// forcing (Lq = 2 length): query i < length is buffer i and sees rows 0..i; query length + t is
// target t and sees rows 0..t-1.
__device__ __forceinline__ int visible_buffer_rows(bool teacher_forcing, int length, const int* device_length, int i) {
  if (!teacher_forcing) return device_length != nullptr ? *device_length : length;
  return i < length ? i + 1 : i - length;
}

}  // namespace artabpfn::kernels::detail
