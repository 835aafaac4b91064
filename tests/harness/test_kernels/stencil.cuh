// Test kernel (harness self-tests; never built for the GPU): y[i] = x[i+1] - x[i] inside each
// block of 64 threads, through shared memory. planted/neighbor_read_no_barrier.cuh is its copy
// with the barrier removed.
// Layout: x, y [n]; geometry: grid (ceil(n/64)), block (64); the last element of a block uses 0
// for its missing neighbour.
#pragma once

#include "kernel_common.cuh"

namespace rnnad::sim_test {

__global__ void neighbor_diff_kernel(const float* x, float* y, int n) {
  RNNAD_SHARED_ARRAY(float, s, 64);
  const int tid = static_cast<int>(threadIdx.x);
  const int i = static_cast<int>(blockIdx.x) * 64 + tid;
  s[tid] = i < n ? x[i] : 0.0f;
  // Thread tid reads s[tid + 1], written by thread tid + 1.
  __syncthreads();
  const float next = tid + 1 < 64 ? static_cast<float>(s[tid + 1]) : 0.0f;
  if (i < n) y[i] = next - s[tid];
}

}  // namespace rnnad::sim_test
