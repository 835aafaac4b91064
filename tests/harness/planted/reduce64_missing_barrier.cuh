// PLANTED BUG (b), test-only: test_kernels/reduce64.cuh's 64-thread tree reduction without the
// barrier between levels: level stride/2 reads sums that level stride is still writing. The
// harness must report a shared-memory race under every schedule.
#pragma once

#include "kernel_common.cuh"

namespace rnnad::planted {

__global__ void reduce64_missing_barrier_kernel(const float* x, float* out) {
  RNNAD_SHARED_ARRAY(float, s, 64);
  const int tid = static_cast<int>(threadIdx.x);
  s[tid] = x[blockIdx.x * 64 + threadIdx.x];
  // The tree reads other threads' inputs.
  __syncthreads();
  for (int stride = 32; stride > 0; stride >>= 1) {
    if (tid < stride) s[tid] += s[tid + stride];
    // BUG: the __syncthreads() between levels is missing.
  }
  if (tid == 0) out[blockIdx.x] = s[0];
}

}  // namespace rnnad::planted
