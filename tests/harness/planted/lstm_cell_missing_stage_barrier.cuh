// PLANTED BUG (a'), test-only: kernels/cell_common.cuh's block_recurrent_product and
// kernels/lstm_cell.cuh's kernel with the barrier after staging h_prev into shared memory removed:
// each warp reads h_s words that other threads (tid + 1, tid + 2, ...) are still writing. The
// harness must report a shared-memory race under every schedule.
#pragma once

#include "cell_common.cuh"

namespace rnnad::planted {

using namespace rnnad::cuda;

template <int kGates>
__device__ __forceinline__ void block_recurrent_product_no_stage_barrier(const float* __restrict__ w_hh_t,
                                                                         const float* __restrict__ h_prev,
                                                                         int ld_h_prev, int batch, int hidden,
                                                                         RNNAD_SHARED_PTR(float) h_s,
                                                                         RNNAD_SHARED_PTR(float) partial) {
  const int x = static_cast<int>(threadIdx.x);
  const int w = static_cast<int>(threadIdx.y);
  const int tid = w * kCellTileH + x;
  const int j = static_cast<int>(blockIdx.y) * kCellTileH + x;
  const int b0 = static_cast<int>(blockIdx.x) * kCellTileB;
  const std::size_t G = static_cast<std::size_t>(kGates) * static_cast<std::size_t>(hidden);

  float acc[kCellTileB][kGates];
  for (int r = 0; r < kCellTileB; ++r)
    for (int g = 0; g < kGates; ++g) acc[r][g] = 0.0f;

  for (int k0 = 0; k0 < hidden; k0 += kCellTileK) {
    for (int e = tid; e < kCellTileB * kCellTileK; e += kCellThreads) {
      const int r = e / kCellTileK, k = k0 + e % kCellTileK;
      float v = 0.0f;
      if (b0 + r < batch && k < hidden)
        v = h_prev[static_cast<std::size_t>(b0 + r) * static_cast<std::size_t>(ld_h_prev) +
                   static_cast<std::size_t>(k)];
      h_s[e] = v;
    }
    // BUG: the __syncthreads() that makes the staged chunk visible to every warp is missing.
    if (j < hidden) {
      const int k_end = hidden - k0 < kCellTileK ? hidden - k0 : kCellTileK;
      for (int k = w; k < k_end; k += kCellWarps) {
        const float* __restrict__ row = w_hh_t + static_cast<std::size_t>(k0 + k) * G + static_cast<std::size_t>(j);
        float wk[kGates];
        for (int g = 0; g < kGates; ++g) wk[g] = row[static_cast<std::size_t>(g) * static_cast<std::size_t>(hidden)];
        for (int r = 0; r < kCellTileB; ++r) {
          const float hv = h_s[r * kCellTileK + k];
          for (int g = 0; g < kGates; ++g) acc[r][g] = fmaf(wk[g], hv, acc[r][g]);
        }
      }
    }
    // Every warp must be done reading this chunk before the next pass overwrites h_s.
    __syncthreads();
  }

  for (int r = 0; r < kCellTileB; ++r)
    for (int g = 0; g < kGates; ++g) partial[cell_partial_index(w, r, g, x, kGates)] = acc[r][g];
  // The caller's thread (x, w) sums all 4 warps' partials of row w.
  __syncthreads();
}

__global__ void __launch_bounds__(kCellThreads) lstm_cell_missing_stage_barrier_kernel(LstmCellStepArgs a) {
  RNNAD_SHARED_ARRAY(float, h_s, kCellTileB* kCellTileK);
  RNNAD_SHARED_ARRAY(float, partial, kCellPartialSize<4>);
  block_recurrent_product_no_stage_barrier<4>(a.w_hh_t, a.h_prev, a.ld_h_prev, a.batch, a.hidden, h_s, partial);

  const int H = a.hidden;
  const int j = static_cast<int>(blockIdx.y) * kCellTileH + static_cast<int>(threadIdx.x);
  const int b = static_cast<int>(blockIdx.x) * kCellTileB + static_cast<int>(threadIdx.y);
  if (j >= H || b >= a.batch) return;

  float pre[4];
  for (int g = 0; g < 4; ++g)
    pre[g] = cell_gate_input<4>(a.gx, a.b_ih, b, j, g, H) + cell_gate_recurrent<4>(partial, a.b_hh, j, g, H);
  const std::size_t bh = static_cast<std::size_t>(b) * static_cast<std::size_t>(H) + static_cast<std::size_t>(j);
  const float c = cell_sigmoid(pre[1]) * a.c_prev[bh] + cell_sigmoid(pre[0]) * cell_tanh(pre[2]);
  a.c_out[bh] = c;
  a.h_out[static_cast<std::size_t>(b) * static_cast<std::size_t>(a.ld_h_out) + static_cast<std::size_t>(j)] =
      cell_sigmoid(pre[3]) * cell_tanh(c);
}

}  // namespace rnnad::planted
