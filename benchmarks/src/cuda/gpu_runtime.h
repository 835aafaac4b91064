// Small CUDA runtime helpers for the GPU backends of rnnad_bench (CUDA builds only).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <utility>

namespace rnnad::bench {

/// Throws BenchError "CUDA <what>: <CUDA's message>" unless `status` is cudaSuccess.
void cuda_check(cudaError_t status, const char* what);

/// An owned device allocation of `count` T's (cudaMalloc / cudaFree); empty when count == 0.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t count) : m_count(count) {
    if (count > 0) cuda_check(cudaMalloc(reinterpret_cast<void**>(&m_ptr), count * sizeof(T)), "cudaMalloc");
  }
  ~DeviceBuffer() {
    if (m_ptr) cudaFree(m_ptr);
  }
  DeviceBuffer(DeviceBuffer&& o) noexcept : m_ptr(std::exchange(o.m_ptr, nullptr)), m_count(std::exchange(o.m_count, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(m_ptr, o.m_ptr);
    std::swap(m_count, o.m_count);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return m_ptr; }
  std::size_t count() const { return m_count; }
  std::size_t bytes() const { return m_count * sizeof(T); }

 private:
  T* m_ptr = nullptr;
  std::size_t m_count = 0;
};

/// Copies `count` floats host -> device / device -> host (synchronous, pageable memory).
void copy_to_device(float* dst, const float* src, std::size_t count);
void copy_to_host(float* dst, const float* src, std::size_t count);

/// Two CUDA events on the default stream bracketing device work: start(), stop(), then ms()
/// (waits for the stop event).
class EventTimer {
 public:
  EventTimer();
  ~EventTimer();
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;
  void start();
  void stop();
  double ms() const;

 private:
  cudaEvent_t m_start = nullptr, m_stop = nullptr;
};

}  // namespace rnnad::bench
