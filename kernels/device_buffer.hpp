#pragma once
// Owning device memory, and a guarded output buffer for tests: the payload is poisoned with a
// signalling NaN pattern before a launch, and guard bands on both sides hold a sentinel. After
// the launch, check() proves nothing was written out of range and every element was written.
//
// Transfers come in two kinds. Code with a stream of its own (the engine) passes it: the copy is
// queued there with cudaMemcpyAsync, ordered with that stream's work and no other. Code that
// launches its kernels on the legacy default stream (kernel tests, conformance, benchmarks) uses
// the forms without a stream: blocking cudaMemcpy copies, ordered with stream 0.
#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cuda_check.hpp"

namespace artabpfn::kernels {

template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t count) : count_(count) {
    if (count_ > 0) ARTABPFN_CUDA_CHECK(cudaMalloc(&data_, count_ * sizeof(T)));
  }
  // Allocates host.size() elements and fills them from host on the legacy default stream (blocking).
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
  // Allocates host.size() elements and queues their upload on `stream` (upload below).
  DeviceBuffer(const std::vector<T>& host, cudaStream_t stream) : DeviceBuffer(host.size()) { upload(host, stream); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept : data_(other.data_), count_(other.count_) {
    other.data_ = nullptr;
    other.count_ = 0;
  }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(count_, other.count_);
    return *this;
  }
  ~DeviceBuffer() {
    if (data_) cudaFree(data_);
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return count_; }

  // Blocking copies on the legacy default stream (stream 0), for code whose kernels run there.
  void upload(const std::vector<T>& host) {
    check_size(host);
    if (count_ > 0) ARTABPFN_CUDA_CHECK(cudaMemcpy(data_, host.data(), count_ * sizeof(T), cudaMemcpyHostToDevice));
  }
  std::vector<T> download() const {
    std::vector<T> host(count_);
    if (count_ > 0) ARTABPFN_CUDA_CHECK(cudaMemcpy(host.data(), data_, count_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }

  // Queues the copy of host into the buffer on `stream`. The copy may read host until the stream
  // reaches it (CUDA does not promise to stage pageable memory before returning): keep host alive
  // and unchanged until the stream has been synchronised.
  void upload(const std::vector<T>& host, cudaStream_t stream) {
    check_size(host);
    if (count_ > 0)
      ARTABPFN_CUDA_CHECK(cudaMemcpyAsync(data_, host.data(), count_ * sizeof(T), cudaMemcpyHostToDevice, stream));
  }
  // Queues the copy of the buffer on `stream` after the work queued there, and waits for the
  // stream (cudaStreamSynchronize): the host reads the result.
  std::vector<T> download(cudaStream_t stream) const {
    std::vector<T> host(count_);
    if (count_ > 0)
      ARTABPFN_CUDA_CHECK(cudaMemcpyAsync(host.data(), data_, count_ * sizeof(T), cudaMemcpyDeviceToHost, stream));
    ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(stream));
    return host;
  }

 private:
  void check_size(const std::vector<T>& host) const {
    if (host.size() != count_) throw CudaError("DeviceBuffer::upload: size mismatch");
  }

  T* data_ = nullptr;
  std::size_t count_ = 0;
};

// Bit patterns of the guarded outputs: a NaN no kernel produces (poison) and the guard bands'.
template <class T>
struct GuardBits;
template <>
struct GuardBits<float> {
  using Raw = std::uint32_t;
  static constexpr Raw kPoison = 0x7fa0dead;
  static constexpr Raw kSentinel = 0x7fb0beef;
};
template <>
struct GuardBits<double> {
  using Raw = std::uint64_t;
  static constexpr Raw kPoison = 0x7ff4deaddeaddeadULL;
  static constexpr Raw kSentinel = 0x7ff8beefbeefbeefULL;
};

// An output of `count` elements (float or double) between two guard bands of `guard` elements.
template <class T>
class BasicGuardedOutput {
 public:
  using Raw = typename GuardBits<T>::Raw;
  static constexpr Raw kPoison = GuardBits<T>::kPoison;
  static constexpr Raw kSentinel = GuardBits<T>::kSentinel;

  explicit BasicGuardedOutput(std::size_t count, std::size_t guard = 1024)
      : count_(count), guard_(guard), buffer_(count + 2 * guard) {
    poison();
  }

  T* data() { return buffer_.data() + guard_; }
  std::size_t size() const { return count_; }

  // Refills payload with the poison and guards with the sentinel (call before every launch).
  void poison() {
    std::vector<T> host(buffer_.size());
    for (std::size_t i = 0; i < host.size(); ++i) host[i] = bits(i < guard_ || i >= guard_ + count_ ? kSentinel : kPoison);
    buffer_.upload(host);
  }

  // Downloads the payload; throws if a guard changed or a payload element was never written.
  std::vector<T> checked_download(const std::string& what) const {
    const std::vector<T> host = buffer_.download();
    for (std::size_t i = 0; i < host.size(); ++i) {
      const bool guard = i < guard_ || i >= guard_ + count_;
      const Raw b = raw(host[i]);
      if (guard && b != kSentinel)
        throw CudaError(what + ": write outside the output at offset " +
                        std::to_string(static_cast<long long>(i) - static_cast<long long>(guard_)));
      if (!guard && b == kPoison) throw CudaError(what + ": element " + std::to_string(i - guard_) + " never written");
    }
    return std::vector<T>(host.begin() + static_cast<std::ptrdiff_t>(guard_),
                          host.begin() + static_cast<std::ptrdiff_t>(guard_ + count_));
  }

 private:
  static T bits(Raw b) {
    T f;
    std::memcpy(&f, &b, sizeof f);
    return f;
  }
  static Raw raw(T f) {
    Raw b;
    std::memcpy(&b, &f, sizeof b);
    return b;
  }

  std::size_t count_, guard_;
  DeviceBuffer<T> buffer_;
};
using GuardedOutput = BasicGuardedOutput<float>;
using GuardedDoubleOutput = BasicGuardedOutput<double>;

}  // namespace artabpfn::kernels
