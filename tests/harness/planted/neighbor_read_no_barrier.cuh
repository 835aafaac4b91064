// PLANTED BUG (a), test-only: test_kernels/stencil.cuh's neighbor_diff_kernel with its barrier
// removed, so thread tid reads s[tid + 1] with no barrier after thread tid + 1 wrote it. The
// harness must report a shared-memory race under every schedule.
#pragma once

#include "kernel_common.cuh"

namespace rnnad::planted {

__global__ void neighbor_diff_no_barrier_kernel(const float* x, float* y, int n) {
  RNNAD_SHARED_ARRAY(float, s, 64);
  const int tid = static_cast<int>(threadIdx.x);
  const int i = static_cast<int>(blockIdx.x) * 64 + tid;
  s[tid] = i < n ? x[i] : 0.0f;
  // BUG: the __syncthreads() that orders the neighbour's write before this read is missing.
  const float next = tid + 1 < 64 ? static_cast<float>(s[tid + 1]) : 0.0f;
  if (i < n) y[i] = next - s[tid];
}

}  // namespace rnnad::planted
