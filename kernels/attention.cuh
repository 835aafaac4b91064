// Additive attention for one decoder step (device code; contract in
// rnnad/cuda/attention_kernel.h; rules in docs/kernels.md; reference: cpu::AdditiveAttention).
// Geometry: grid (batch), block (128): block b computes batch row b.
//   1. thread x scores encoder steps j = x, x + 128, ... (e(j) written to weights[b, j]) and
//      keeps their maximum; a shared-memory tree gives the block maximum;
//   2. the same threads replace e(j) by exp(e(j) - max) and sum them; a tree gives the sum;
//   3. they scale their weights by 1 / sum;
//   4. thread x computes ctx[b, i] for i = x, x + 128, ... from all T weights.
// Static shared memory: 128 floats (the reduction tree). Accurate expf (no --use_fast_math).
#pragma once

#include "cell_math.cuh"
#include "kernel_common.cuh"
#include "rnnad/cuda/attention_kernel.h"

namespace rnnad::cuda {

/// Block-wide maximum (want_max) or sum of `value` over the block's kAttentionThreads threads,
/// returned to every thread. Every thread must call it; `red` is kAttentionThreads floats.
__device__ __forceinline__ float attention_block_reduce(RNNAD_SHARED_PTR(float) red, float value, bool want_max) {
  const int tid = static_cast<int>(threadIdx.x);
  red[tid] = value;
  // Every thread's value must be in place before the tree reads its neighbours'.
  __syncthreads();
  for (int stride = kAttentionThreads / 2; stride > 0; stride >>= 1) {
    if (tid < stride) {
      const float other = red[tid + stride];
      const float mine = red[tid];
      red[tid] = want_max ? fmaxf(mine, other) : mine + other;
    }
    // The next level reads this level's results, written by other threads.
    __syncthreads();
  }
  const float result = red[0];
  // Every thread must have read red[0] before the next reduction overwrites it.
  __syncthreads();
  return result;
}

/// One attention step; arguments and shapes: AttentionArgs.
__global__ void __launch_bounds__(kAttentionThreads) attention_step_kernel(AttentionArgs a) {
  RNNAD_SHARED_ARRAY(float, red, kAttentionThreads);
  const int tid = static_cast<int>(threadIdx.x);
  const std::size_t b = blockIdx.x, B = static_cast<std::size_t>(a.batch);
  const std::size_t A = static_cast<std::size_t>(a.attention_size), Hk = static_cast<std::size_t>(a.key_size);
  float* __restrict__ w = a.weights + b * static_cast<std::size_t>(a.ld_w);
  const float* __restrict__ q = a.q + b * A;

  float local_max = -3.4e38f;
  for (int j = tid; j < a.seq_len; j += kAttentionThreads) {
    const float* __restrict__ k = a.keys + (static_cast<std::size_t>(j) * B + b) * A;
    float e = 0.0f;
    for (std::size_t i = 0; i < A; ++i) e += a.v[i] * cell_tanh(q[i] + k[i]);
    w[j] = e;
    local_max = fmaxf(local_max, e);
  }
  const float max_e = attention_block_reduce(red, local_max, true);

  float local_sum = 0.0f;
  for (int j = tid; j < a.seq_len; j += kAttentionThreads) {
    const float ex = expf(w[j] - max_e);
    w[j] = ex;
    local_sum += ex;
  }
  const float inv = 1.0f / attention_block_reduce(red, local_sum, false);  // sum >= 1 (exp(0) is in it)
  for (int j = tid; j < a.seq_len; j += kAttentionThreads) w[j] *= inv;
  // Every weight must be normalised (by its own thread) before any thread reads all T of them.
  __syncthreads();

  for (std::size_t i = static_cast<std::size_t>(tid); i < Hk; i += kAttentionThreads) {
    float c = 0.0f;
    for (int j = 0; j < a.seq_len; ++j) c += w[j] * a.enc[(static_cast<std::size_t>(j) * B + b) * Hk + i];
    a.ctx[b * static_cast<std::size_t>(a.ld_ctx) + i] = c;
  }
}

}  // namespace rnnad::cuda
