// The CUDA execution context of one Engine and the memory it owns: a device, a stream (the
// caller's or its own) and a cuBLAS handle bound to that stream; RAII device and pinned host
// buffers. No CUDA header needed to include this file (docs/architecture.md, "CUDA backend").
#pragma once

#include <cstddef>
#include <string>

struct CUstream_st;
struct CUevent_st;
struct cublasContext;

namespace rnnad::cuda {

/// A device, a stream and a cuBLAS handle. Every CUDA call the backend makes for one Engine goes
/// to this stream, in order; nothing synchronises the whole device. Not thread-safe (one Engine
/// per thread, like the CPU path). Construction makes `device` current on the calling thread;
/// every public entry point of the backend does so again (cudaSetDevice is cheap).
class Context {
 public:
  /// Throws CudaError naming the call when the device cannot be used (bad ordinal, no driver),
  /// or cuBLAS cannot be initialised. `stream`: a caller-supplied cudaStream_t, which the
  /// context uses but never destroys; null: the context creates its own non-blocking stream.
  explicit Context(int device, CUstream_st* stream = nullptr);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  int device() const { return m_device; }
  CUstream_st* stream() const { return m_stream; }
  cublasContext* cublas() const { return m_cublas; }
  /// "NVIDIA H200 (cuda:0, sm_90, 132 SMs)".
  const std::string& description() const { return m_description; }
  /// Streaming multiprocessors of the device.
  int sm_count() const { return m_sm_count; }
  /// Shared memory one block may opt in to, bytes (227 KiB on sm_90).
  std::size_t max_shared_bytes() const { return m_max_shared_bytes; }
  /// Compute capability as major * 10 + minor (90 on sm_90).
  int compute_capability() const { return m_compute_capability; }
  /// Whether the device takes cooperative launches (cudaDevAttrCooperativeLaunch).
  bool cooperative_launch() const { return m_cooperative_launch; }
  /// Makes the device current on the calling thread.
  void activate() const;
  /// Waits for all work queued on the stream; throws CudaError for a fault in any of it.
  void synchronize() const;
  /// Waits for the whole device: the zero fills and weight copies of construction (DeviceBuffer,
  /// upload) run on the legacy default stream, which a non-blocking stream does not wait for.
  /// Called once when a backend is fully built, never per call.
  void synchronize_device() const;

 private:
  int m_device;
  CUstream_st* m_stream = nullptr;
  bool m_owns_stream = false;
  cublasContext* m_cublas = nullptr;
  std::string m_description;
  int m_sm_count = 0;
  std::size_t m_max_shared_bytes = 0;
  int m_compute_capability = 0;
  bool m_cooperative_launch = false;
};

/// An owned CUDA event (no timing) that orders work between the streams of two contexts on one
/// device: record() marks the point reached by a context's queued work, wait() makes a context's
/// later work wait for the last record. Throws CudaError when a call fails.
class Event {
 public:
  Event();
  ~Event();
  Event(Event&& other) noexcept;
  Event& operator=(Event&& other) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  /// Marks the end of the work queued on ctx's stream so far.
  void record(const Context& ctx);
  /// Work queued on ctx's stream from now on waits for the last record() (captured now).
  void wait(const Context& ctx) const;

 private:
  CUevent_st* m_event = nullptr;
};

/// An owned device array of `count` T (float, double or int), zero-filled at allocation (cudaMalloc
/// + cudaMemset). Size 0 holds no memory (data() is null). Throws CudaError when the allocation
/// fails (the message gives the bytes asked for).
template <class T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(std::size_t count);
  ~DeviceArray();
  DeviceArray(DeviceArray&& other) noexcept;
  DeviceArray& operator=(DeviceArray&& other) noexcept;
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* data() { return m_data; }
  const T* data() const { return m_data; }
  std::size_t size() const { return m_count; }

 private:
  T* m_data = nullptr;
  std::size_t m_count = 0;
};
using DeviceBuffer = DeviceArray<float>;

/// An owned page-locked host array of `count` T (float, double or int; cudaMallocHost), for
/// asynchronous copies. Throws CudaError when the allocation fails.
template <class T>
class PinnedArray {
 public:
  PinnedArray() = default;
  explicit PinnedArray(std::size_t count);
  ~PinnedArray();
  PinnedArray(const PinnedArray&) = delete;
  PinnedArray& operator=(const PinnedArray&) = delete;

  T* data() { return m_data; }
  std::size_t size() const { return m_count; }

 private:
  T* m_data = nullptr;
  std::size_t m_count = 0;
};
using PinnedBuffer = PinnedArray<float>;

/// A device copy of `count` host values (synchronous; for weights at construction).
template <class T>
DeviceArray<T> upload(const T* host, std::size_t count);

}  // namespace rnnad::cuda
