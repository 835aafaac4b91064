#include "gpu_kernels.h"

#include "gpu_runtime.h"

namespace rnnad::bench {

namespace {

constexpr int kThreads = 256;

__global__ void gather_windows_kernel(const float* series, int64_t stride, int64_t T, int64_t B, int64_t I, float* x) {
  const int64_t n = T * B * I;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < n;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = k % I, b = (k / I) % B, t = k / (I * B);
    x[k] = series[(b * stride + t) * I + i];
  }
}

__global__ void broadcast_rows_kernel(const float* bias, int64_t rows, int64_t n, float* out) {
  const int64_t total = rows * n;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[k] = bias[k % n];
}

unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 65535 ? (b > 0 ? b : 1) : 65535);
}

}  // namespace

void gather_windows(const float* series, int64_t stride, int64_t T, int64_t B, int64_t I, float* x) {
  gather_windows_kernel<<<blocks_for(T * B * I), kThreads>>>(series, stride, T, B, I, x);
  cuda_check(cudaGetLastError(), "gather_windows launch");
}

void broadcast_rows(const float* bias, int64_t rows, int64_t n, float* out) {
  broadcast_rows_kernel<<<blocks_for(rows * n), kThreads>>>(bias, rows, n, out);
  cuda_check(cudaGetLastError(), "broadcast_rows launch");
}

}  // namespace rnnad::bench
