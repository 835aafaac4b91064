// Test kernel (harness self-tests): the sum of each block's 64 inputs by a shared-memory tree
// reduction. planted/reduce64_missing_barrier.cuh is its copy without the in-loop barrier.
// Layout: x [64 * gridDim.x], out [gridDim.x]; geometry: grid (blocks), block (64).
#pragma once

#include "kernel_common.cuh"

namespace rnnad::sim_test {

__global__ void reduce64_kernel(const float* x, float* out) {
  RNNAD_SHARED_ARRAY(float, s, 64);
  const int tid = static_cast<int>(threadIdx.x);
  s[tid] = x[blockIdx.x * 64 + threadIdx.x];
  // The tree reads other threads' inputs.
  __syncthreads();
  for (int stride = 32; stride > 0; stride >>= 1) {
    if (tid < stride) s[tid] += s[tid + stride];
    // The next level reads this level's sums (s[tid + stride/2] was written by another thread).
    __syncthreads();
  }
  if (tid == 0) out[blockIdx.x] = s[0];
}

}  // namespace rnnad::sim_test
