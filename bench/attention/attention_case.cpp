#include "bench/attention/attention_case.hpp"

#include <cuda_runtime.h>

#include <cstring>
#include <string>

#include "bench/attention/device_fill.hpp"
#include "kernels/cuda_check.hpp"
#include "tests/support/gpu/attention_harness.hpp"
#include "tolerance/bitwise.hpp"

namespace artabpfn::bench {
namespace {

namespace harness = gpu_attention_test;
using kernels::BufferMask;
using kernels::DeviceBuffer;

constexpr int kValidatedSamples = 8;  // at most, per case

bool teacher_forcing(Kernel k) { return k == Kernel::kBufferTeacherForcing || k == Kernel::kFusedTeacherForcing; }

// Whether the case reads the context K/V (expanded copies it into every sample's buffer).
bool reads_context(Kernel k) { return k != Kernel::kBufferDecode && k != Kernel::kBufferTeacherForcing; }

struct BufferShape {
  int capacity = 0, length = 0;
  BufferMask mask = BufferMask::kDecode;
};

BufferShape buffer_shape(const Case& c) {
  switch (c.kernel) {
    case Kernel::kShared: return {};
    case Kernel::kBufferDecode:
    case Kernel::kMerge:
    case Kernel::kFusedDecode: return {kDecodeBufferCapacity, kDecodeBufferLength, BufferMask::kDecode};
    case Kernel::kBufferTeacherForcing:
    case Kernel::kFusedTeacherForcing: return {kTeacherForcingTargets, kTeacherForcingTargets, BufferMask::kTeacherForcing};
    case Kernel::kExpanded: return {c.context, c.context, BufferMask::kDecode};
  }
  return {};
}

// The harness's kernel that computes this case's result from the same inputs.
harness::Kernel harness_kernel(Kernel k) {
  switch (k) {
    case Kernel::kShared: return harness::Kernel::kShared;
    case Kernel::kFusedDecode:
    case Kernel::kFusedTeacherForcing: return harness::Kernel::kFused;
    default: return harness::Kernel::kBuffer;
  }
}

std::size_t product(std::size_t a, std::size_t b, std::size_t c = 1, std::size_t d = 1) { return a * b * c * d; }

// The rows of the given samples from a [B, ...] array of `per_sample` floats a sample.
std::vector<float> download_samples(const DeviceBuffer<float>& data, std::size_t per_sample, const std::vector<int>& samples) {
  std::vector<float> host(per_sample * samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i)
    if (per_sample > 0)
      ARTABPFN_CUDA_CHECK(cudaMemcpy(host.data() + i * per_sample, data.data() + static_cast<std::size_t>(samples[i]) * per_sample,
                                     per_sample * sizeof(float), cudaMemcpyDeviceToHost));
  return host;
}

// Up to kValidatedSamples samples evenly spread over 0..batch-1, both ends included: the first and
// the last row tiles, and tiles in between.
std::vector<int> validated_samples(int batch) {
  const int n = batch < kValidatedSamples ? batch : kValidatedSamples;
  std::vector<int> samples;
  for (int i = 0; i < n; ++i)
    samples.push_back(n == 1 ? 0 : static_cast<int>(static_cast<std::int64_t>(i) * (batch - 1) / (n - 1)));
  return samples;
}

// FNV-1a over the bits of the floats.
std::uint64_t hash_bits(const std::vector<float>& a, const std::vector<float>& b) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const std::vector<float>* v : {&a, &b})
    for (const float x : *v) {
      std::uint32_t bits = 0;
      std::memcpy(&bits, &x, sizeof bits);
      for (int byte = 0; byte < 4; ++byte) h = (h ^ ((bits >> (8 * byte)) & 0xffu)) * 0x100000001b3ull;
    }
  return h;
}

}  // namespace

const char* kernel_name(Kernel kernel) {
  switch (kernel) {
    case Kernel::kShared: return "shared";
    case Kernel::kBufferDecode: return "buffer_decode";
    case Kernel::kMerge: return "merge";
    case Kernel::kFusedDecode: return "fused_decode";
    case Kernel::kBufferTeacherForcing: return "buffer_teacher_forcing";
    case Kernel::kFusedTeacherForcing: return "fused_teacher_forcing";
    case Kernel::kExpanded: return "expanded";
  }
  return "?";
}

std::string Case::describe() const {
  return std::string(kernel_name(kernel)) + " Dh " + std::to_string(head_dim) + " B " + std::to_string(batch) + " Nc " +
         std::to_string(context);
}

int Case::queries() const { return teacher_forcing(kernel) ? 2 * kTeacherForcingTargets : kDecodeQueries; }

int Case::blocks_per_sm() const {
  if (kernel == Kernel::kMerge) return 0;
  return kernels::attention_blocks_per_sm(head_dim, static_cast<std::int64_t>(batch) * queries(), kHeads);
}

double Case::device_bytes() const {
  const double rows = double(batch) * kHeads * queries(), dh = head_dim;
  double floats = 2.0 * rows * dh + rows;  // q, out, lse
  if (reads_context(kernel)) floats += 2.0 * kHeads * double(context) * dh;
  floats += 2.0 * double(batch) * kHeads * buffer_shape(*this).capacity * dh;
  if (kernel == Kernel::kMerge) floats += 2.0 * (rows * dh + rows);  // its two input states
  if (kernel == Kernel::kExpanded) floats += rows * dh + rows;       // shared's result, for the comparison
  return 4.0 * floats;
}

Cost Case::cost() const {
  const double b = batch, h = kHeads, dh = head_dim, nc = context, rows = b * h * queries();
  if (kernel == Kernel::kMerge) return {3.0 * rows * dh, kFloat * 3.0 * (rows * dh + rows)};  // two states in, one out
  const double length = buffer_shape(*this).length;
  const double context_kv = reads_context(kernel) && kernel != Kernel::kExpanded ? 2.0 * h * nc * dh : 0.0;
  const double buffer_kv = 2.0 * b * h * length * dh;  // the visible rows
  double pairs = rows * length;                        // decode: every query sees every valid row (shared: none)
  // Teacher forcing: buffer row j sees rows 0..j, target t rows 0..t-1: length^2 pairs a sample and head.
  if (teacher_forcing(kernel)) pairs = b * h * length * length;
  if (context_kv > 0) pairs += rows * nc;
  return {4.0 * dh * pairs, kFloat * (2.0 * rows * dh + rows + context_kv + buffer_kv)};  // + q read, out and lse written
}

CaseData::CaseData(const Case& c)
    : c_(c),
      q_(product(c.batch, kHeads, c.queries(), c.head_dim)),
      out_(q_.size()),
      lse_(product(c.batch, kHeads, c.queries())),
      context_offset_(std::vector<std::int64_t>{0}),
      context_len_(std::vector<std::int32_t>{c.context}),
      task_of_sample_(std::vector<std::int32_t>(static_cast<std::size_t>(c.batch), 0)) {
  const BufferShape buffer = buffer_shape(c);
  fill_uniform(q_.data(), q_.size(), 1, 3.f);
  if (reads_context(c.kernel)) {
    context_k_ = DeviceBuffer<float>(product(kHeads, c.context, c.head_dim));
    context_v_ = DeviceBuffer<float>(context_k_.size());
    fill_uniform(context_k_.data(), context_k_.size(), 2, 1.f);
    fill_uniform(context_v_.data(), context_v_.size(), 3, 1.f);
  }
  buffer_k_ = DeviceBuffer<float>(product(c.batch, kHeads, buffer.capacity, c.head_dim));
  buffer_v_ = DeviceBuffer<float>(buffer_k_.size());
  if (c.kernel == Kernel::kExpanded) {
    copy_per_sample(context_k_.data(), context_k_.size(), buffer_k_.data(), static_cast<std::size_t>(c.batch));
    copy_per_sample(context_v_.data(), context_v_.size(), buffer_v_.data(), static_cast<std::size_t>(c.batch));
  } else {
    fill_uniform(buffer_k_.data(), buffer_k_.size(), 4, 1.f);
    fill_uniform(buffer_v_.data(), buffer_v_.size(), 5, 1.f);
  }
  if (c.kernel == Kernel::kMerge || c.kernel == Kernel::kExpanded) {
    context_out_ = DeviceBuffer<float>(out_.size());
    context_lse_ = DeviceBuffer<float>(lse_.size());
    kernels::shared_context_attention(query_block(), context_kv(), {context_out_.data(), context_lse_.data()}, nullptr);
  }
  if (c.kernel == Kernel::kMerge) {
    buffer_out_ = DeviceBuffer<float>(out_.size());
    buffer_lse_ = DeviceBuffer<float>(lse_.size());
    kernels::buffer_attention(query_block(), buffer_kv(), {buffer_out_.data(), buffer_lse_.data()}, nullptr);
  }
  ARTABPFN_CUDA_CHECK(cudaDeviceSynchronize());
}

kernels::QueryBlock CaseData::query_block() const { return {q_.data(), c_.batch, kHeads, c_.queries(), c_.head_dim}; }

kernels::ContextKV CaseData::context_kv() const {
  return {context_k_.data(), context_v_.data(), context_offset_.data(), context_len_.data(), task_of_sample_.data()};
}

kernels::BufferKV CaseData::buffer_kv() const {
  const BufferShape b = buffer_shape(c_);
  return {buffer_k_.data(), buffer_v_.data(), b.capacity, b.length, b.mask};
}

void CaseData::launch() {
  const kernels::AttentionOut out{out_.data(), lse_.data()};
  switch (c_.kernel) {
    case Kernel::kShared: kernels::shared_context_attention(query_block(), context_kv(), out, nullptr); break;
    case Kernel::kBufferDecode:
    case Kernel::kBufferTeacherForcing:
    case Kernel::kExpanded: kernels::buffer_attention(query_block(), buffer_kv(), out, nullptr); break;
    case Kernel::kFusedDecode:
    case Kernel::kFusedTeacherForcing: kernels::fused_attention(query_block(), context_kv(), buffer_kv(), out, nullptr); break;
    case Kernel::kMerge:
      kernels::merge_attention_states(context_out_.data(), context_lse_.data(), buffer_out_.data(), buffer_lse_.data(),
                                      static_cast<std::int64_t>(lse_.size()), c_.head_dim, out, nullptr);
      break;
  }
}

std::uint64_t CaseData::output_bits(const std::vector<int>& samples) const {
  const std::size_t rows = product(kHeads, c_.queries());
  return hash_bits(download_samples(out_, rows * static_cast<std::size_t>(c_.head_dim), samples),
                   download_samples(lse_, rows, samples));
}

Validation CaseData::validate() {
  // All bits set: a NaN, so an element the launch never writes fails the comparison.
  ARTABPFN_CUDA_CHECK(cudaMemset(out_.data(), 0xff, out_.size() * sizeof(float)));
  ARTABPFN_CUDA_CHECK(cudaMemset(lse_.data(), 0xff, lse_.size() * sizeof(float)));
  launch();
  ARTABPFN_CUDA_CHECK(cudaDeviceSynchronize());

  Validation v;
  v.samples = validated_samples(c_.batch);
  const std::size_t rows = product(kHeads, c_.queries()), dh = static_cast<std::size_t>(c_.head_dim);
  const harness::Outputs<float> got{download_samples(out_, rows * dh, v.samples), download_samples(lse_, rows, v.samples)};
  v.bits = hash_bits(got.out, got.lse);

  harness::Verdict verdict;
  if (c_.kernel == Kernel::kMerge) {
    harness::MergeInputs in;
    in.rows = static_cast<std::int64_t>(rows * v.samples.size());
    in.head_dim = c_.head_dim;
    in.out1 = download_samples(context_out_, rows * dh, v.samples);
    in.lse1 = download_samples(context_lse_, rows, v.samples);
    in.out2 = download_samples(buffer_out_, rows * dh, v.samples);
    in.lse2 = download_samples(buffer_lse_, rows, v.samples);
    verdict = harness::check(c_.describe(), harness::merge_reference<double>(in), harness::merge_reference<float>(in), got);
  } else {
    const BufferShape buffer = buffer_shape(c_);
    harness::Inputs in;
    in.shape.batch = static_cast<int>(v.samples.size());
    in.shape.heads = kHeads;
    in.shape.queries = c_.queries();
    in.shape.head_dim = c_.head_dim;
    in.shape.context_len = {reads_context(c_.kernel) ? c_.context : 0};
    in.shape.capacity = buffer.capacity;
    in.shape.length = buffer.length;
    in.shape.mask = buffer.mask;
    in.q = download_samples(q_, rows * dh, v.samples);
    in.context_k = context_k_.download();
    in.context_v = context_v_.download();
    in.context_offset = {0};
    const std::size_t per_sample_buffer = product(kHeads, buffer.capacity, dh);
    in.buffer_k = download_samples(buffer_k_, per_sample_buffer, v.samples);
    in.buffer_v = download_samples(buffer_v_, per_sample_buffer, v.samples);
    const harness::Kernel k = harness_kernel(c_.kernel);
    verdict = harness::check(c_.describe(), harness::reference<double>(k, in), harness::reference<float>(k, in), got);
    if (!verdict.ok) verdict.text = in.shape.describe() + " (the checked samples)\n" + verdict.text;
  }
  if (c_.kernel == Kernel::kExpanded) {
    std::string where;
    const bool same = tolerance::bitwise_equal(got.out, download_samples(context_out_, rows * dh, v.samples), &where) &&
                      tolerance::bitwise_equal(got.lse, download_samples(context_lse_, rows, v.samples), &where);
    if (!same) {
      verdict.ok = false;
      verdict.text += c_.describe() + ": not bitwise shared_context_attention's result: " + where + "\n";
    }
  }
  v.ok = verdict.ok;
  v.failure = verdict.text;
  return v;
}

}  // namespace artabpfn::bench
