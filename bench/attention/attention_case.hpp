#pragma once
// One case of attention_bench: a kernel of kernels/attention.hpp at one head dim and one size; its
// inputs on the device, its launch, its validation against the double reference, and the FLOPs
// and bytes of one launch.
//
// The problem: B samples of one task with Nc context rows, H = 4 heads of any head dim Dh. A
// decode step has Lq = 2 queries a sample (buffer t-1 and target t) and a buffer of 16 valid rows
// (capacity 32); a teacher-forcing pass has 16 targets: Lq = 32 (the 16 buffer rows, then the 16
// targets) over a buffer of 16 rows (kernels/attention.hpp, "Buffer visibility").
//
// Kernels (Kernel):
//   shared                  shared_context_attention: decode queries over the context
//   buffer_decode           buffer_attention, decode mask
//   merge                   merge_attention_states of shared's and buffer_decode's states (the
//                           split path's third launch)
//   fused_decode            fused_attention, decode mask: context and buffer in one softmax
//   buffer_teacher_forcing  buffer_attention, teacher-forcing mask
//   fused_teacher_forcing   fused_attention, teacher-forcing mask
//   expanded                buffer_attention, decode mask, over every sample's own copy of the
//                           context (Nc rows): shared's arithmetic without sharing K/V between
//                           samples, so bitwise shared's result at B times its K/V traffic
//
// Values: q uniform in [-3, 3), K and V in [-1, 1) (scores of about unit variance, as the test
// harness's normal inputs), made on the device from a hash of the index (device_fill.hpp).
#include <cstdint>
#include <string>
#include <vector>

#include "bench/e2e/cost_model.hpp"
#include "kernels/attention.hpp"
#include "kernels/device_buffer.hpp"

namespace artabpfn::bench {

enum class Kernel {
  kShared,
  kBufferDecode,
  kMerge,
  kFusedDecode,
  kBufferTeacherForcing,
  kFusedTeacherForcing,
  kExpanded
};
inline constexpr Kernel kAllKernels[] = {Kernel::kShared,         Kernel::kBufferDecode,         Kernel::kMerge,
                                         Kernel::kFusedDecode,    Kernel::kBufferTeacherForcing, Kernel::kFusedTeacherForcing,
                                         Kernel::kExpanded};
const char* kernel_name(Kernel kernel);

// The problem's sizes (above).
inline constexpr int kHeads = 4;
inline constexpr int kDecodeQueries = 2;
inline constexpr int kDecodeBufferLength = 16, kDecodeBufferCapacity = 32;
inline constexpr int kTeacherForcingTargets = 16;  // the buffer's length and capacity; Lq = 2 x this

struct Case {
  Kernel kernel;
  int head_dim = 32;
  int batch = 1;    // B
  int context = 1;  // Nc

  std::string describe() const;  // "fused_decode Dh 32 B 256 Nc 256"
  int queries() const;           // Lq
  // The blocks an SM of the row-tile instance the launch takes (kernels::attention_blocks_per_sm);
  // 0 for the merge, which has one instance.
  int blocks_per_sm() const;
  // Device memory CaseData allocates.
  double device_bytes() const;
  // One launch: FLOPs (a multiply-add counts 2: q.k and p.v for every visible query-key pair; the
  // merge 3 per output element) and minimal bytes (every input read once, every output written
  // once; the context K/V once per launch, each sample's visible buffer rows once).
  Cost cost() const;
};

struct Validation {
  bool ok = true;
  std::string failure;       // every failing comparison, described
  std::vector<int> samples;  // the samples checked
  std::uint64_t bits = 0;    // hash of the checked samples' output and LSE bits
};

// A case's device data: the constructor allocates and fills the inputs (the same values at every
// construction; the merge's two input states are computed here), launch() runs the case's kernel
// once on the legacy default stream.
class CaseData {
 public:
  explicit CaseData(const Case& c);
  void launch();
  // Fills the outputs with NaN, launches once, and checks up to 8 samples spread over the batch
  // (the first and the last among them) against the double reference under the suite's rule:
  // within tolerance::kAttentionFactor x the error of a plain float32 implementation + a floor, through the GPU
  // attention test harness (tests/support/gpu). expanded must also equal shared bitwise.
  Validation validate();
  // The hash of Validation::bits for these samples' current outputs.
  std::uint64_t output_bits(const std::vector<int>& samples) const;

 private:
  kernels::QueryBlock query_block() const;
  kernels::ContextKV context_kv() const;
  kernels::BufferKV buffer_kv() const;

  Case c_;
  kernels::DeviceBuffer<float> q_, context_k_, context_v_, buffer_k_, buffer_v_, out_, lse_;
  kernels::DeviceBuffer<float> context_out_, context_lse_, buffer_out_, buffer_lse_;  // the merge's inputs
  kernels::DeviceBuffer<std::int64_t> context_offset_;
  kernels::DeviceBuffer<std::int32_t> context_len_, task_of_sample_;
};

}  // namespace artabpfn::bench
