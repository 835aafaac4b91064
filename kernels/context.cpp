// Context, DeviceArray and PinnedArray (rnnad/cuda/context.h).
#include "rnnad/cuda/context.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <utility>

#include "cublas_check.h"
#include "cuda_check.h"

namespace rnnad::cuda {

Context::Context(int device, CUstream_st* stream) : m_device(device), m_stream(stream) {
  RNNAD_CUDA_CHECK(cudaSetDevice(device));
  cudaDeviceProp prop{};
  RNNAD_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  m_description = std::string(prop.name) + " (cuda:" + std::to_string(device) + ", sm_" + std::to_string(prop.major) +
                  std::to_string(prop.minor) + ", " + std::to_string(prop.multiProcessorCount) + " SMs)";
  m_sm_count = prop.multiProcessorCount;
  m_max_shared_bytes = prop.sharedMemPerBlockOptin;
  m_compute_capability = prop.major * 10 + prop.minor;
  int cooperative = 0;
  RNNAD_CUDA_CHECK(cudaDeviceGetAttribute(&cooperative, cudaDevAttrCooperativeLaunch, device));
  m_cooperative_launch = cooperative != 0;
  if (!m_stream) {
    RNNAD_CUDA_CHECK(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking));
    m_owns_stream = true;
  }
  try {
    RNNAD_CUBLAS_CHECK(cublasCreate(&m_cublas));
    RNNAD_CUBLAS_CHECK(cublasSetStream(m_cublas, m_stream));
    // fp32 GEMMs stay fp32: no TF32 tensor-op down-conversion (performance.md §1.3).
    RNNAD_CUBLAS_CHECK(cublasSetMathMode(m_cublas, CUBLAS_PEDANTIC_MATH));
  } catch (...) {
    if (m_cublas) cublasDestroy(m_cublas);
    if (m_owns_stream) cudaStreamDestroy(m_stream);
    throw;
  }
}

Context::~Context() {
  cudaSetDevice(m_device);
  cudaStreamSynchronize(m_stream);  // no work may outlive the buffers it uses
  cublasDestroy(m_cublas);
  if (m_owns_stream) cudaStreamDestroy(m_stream);
}

void Context::activate() const { RNNAD_CUDA_CHECK(cudaSetDevice(m_device)); }

Event::Event() { RNNAD_CUDA_CHECK(cudaEventCreateWithFlags(&m_event, cudaEventDisableTiming)); }

Event::~Event() {
  if (m_event) cudaEventDestroy(m_event);
}

Event::Event(Event&& other) noexcept : m_event(std::exchange(other.m_event, nullptr)) {}

Event& Event::operator=(Event&& other) noexcept {
  if (this != &other) {
    if (m_event) cudaEventDestroy(m_event);
    m_event = std::exchange(other.m_event, nullptr);
  }
  return *this;
}

void Event::record(const Context& ctx) { RNNAD_CUDA_CHECK(cudaEventRecord(m_event, ctx.stream())); }

void Event::wait(const Context& ctx) const { RNNAD_CUDA_CHECK(cudaStreamWaitEvent(ctx.stream(), m_event, 0)); }

void Context::synchronize() const { RNNAD_CUDA_CHECK(cudaStreamSynchronize(m_stream)); }

void Context::synchronize_device() const {
  activate();
  RNNAD_CUDA_CHECK(cudaDeviceSynchronize());
}

template <class T>
DeviceArray<T>::DeviceArray(std::size_t count) : m_count(count) {
  if (count == 0) return;
  const std::size_t bytes = count * sizeof(T);
  void* p = nullptr;
  const cudaError_t status = cudaMalloc(&p, bytes);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    throw CudaError("cudaMalloc of " + std::to_string(bytes) + " bytes failed: " + cudaGetErrorName(status) + ": " +
                    cudaGetErrorString(status));
  }
  m_data = static_cast<T*>(p);
  const cudaError_t fill = cudaMemset(m_data, 0, bytes);
  if (fill != cudaSuccess) {
    cudaFree(m_data);
    throw_cuda_error(fill, "cudaMemset(m_data, 0, bytes)", __FILE__, __LINE__);
  }
}

template <class T>
DeviceArray<T>::~DeviceArray() {
  if (m_data) cudaFree(m_data);
}

template <class T>
DeviceArray<T>::DeviceArray(DeviceArray&& other) noexcept
    : m_data(std::exchange(other.m_data, nullptr)), m_count(std::exchange(other.m_count, 0)) {}

template <class T>
DeviceArray<T>& DeviceArray<T>::operator=(DeviceArray&& other) noexcept {
  if (this != &other) {
    if (m_data) cudaFree(m_data);
    m_data = std::exchange(other.m_data, nullptr);
    m_count = std::exchange(other.m_count, 0);
  }
  return *this;
}

template <class T>
PinnedArray<T>::PinnedArray(std::size_t count) : m_count(count) {
  if (count == 0) return;
  void* p = nullptr;
  RNNAD_CUDA_CHECK(cudaMallocHost(&p, count * sizeof(T)));
  m_data = static_cast<T*>(p);
}

template <class T>
PinnedArray<T>::~PinnedArray() {
  if (m_data) cudaFreeHost(m_data);
}

template <class T>
DeviceArray<T> upload(const T* host, std::size_t count) {
  DeviceArray<T> buf(count);
  if (count > 0) RNNAD_CUDA_CHECK(cudaMemcpy(buf.data(), host, count * sizeof(T), cudaMemcpyHostToDevice));
  return buf;
}

// The element types the backend uses.
template class DeviceArray<float>;
template class DeviceArray<double>;
template class DeviceArray<int>;
template class PinnedArray<float>;
template class PinnedArray<double>;
template class PinnedArray<int>;
template DeviceArray<float> upload(const float*, std::size_t);
template DeviceArray<double> upload(const double*, std::size_t);
template DeviceArray<int> upload(const int*, std::size_t);

}  // namespace rnnad::cuda
