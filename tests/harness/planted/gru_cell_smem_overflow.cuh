// PLANTED BUG (d), test-only: kernels/cell_common.cuh's block_recurrent_product and
// kernels/gru_cell.cuh's kernel with the staging loop's bound off by one (e <= 4*64), so thread 0
// writes h_s[256], one element past the 256-float shared array. The harness's bounds check must
// report it under every schedule (release builds too, not only under ASan).
#pragma once

#include "cell_common.cuh"

namespace rnnad::planted {

using namespace rnnad::cuda;

template <int kGates>
__device__ __forceinline__ void block_recurrent_product_overflow(const float* __restrict__ w_hh_t,
                                                                 const float* __restrict__ h_prev, int ld_h_prev,
                                                                 int batch, int hidden, RNNAD_SHARED_PTR(float) h_s,
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
    for (int e = tid; e <= kCellTileB * kCellTileK; e += kCellThreads) {  // BUG: <= writes h_s[256]
      const int r = e / kCellTileK, k = k0 + e % kCellTileK;
      float v = 0.0f;
      if (b0 + r < batch && k < hidden)
        v = h_prev[static_cast<std::size_t>(b0 + r) * static_cast<std::size_t>(ld_h_prev) +
                   static_cast<std::size_t>(k)];
      h_s[e] = v;
    }
    // The chunk was staged by all 128 threads; every warp reads all of it below.
    __syncthreads();
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

__global__ void __launch_bounds__(kCellThreads) gru_cell_smem_overflow_kernel(GruCellStepArgs a) {
  RNNAD_SHARED_ARRAY(float, h_s, kCellTileB* kCellTileK);
  RNNAD_SHARED_ARRAY(float, partial, kCellPartialSize<3>);
  block_recurrent_product_overflow<3>(a.w_hh_t, a.h_prev, a.ld_h_prev, a.batch, a.hidden, h_s, partial);

  const int H = a.hidden;
  const int j = static_cast<int>(blockIdx.y) * kCellTileH + static_cast<int>(threadIdx.x);
  const int b = static_cast<int>(blockIdx.x) * kCellTileB + static_cast<int>(threadIdx.y);
  if (j >= H || b >= a.batch) return;

  const float reset =
      cell_sigmoid(cell_gate_input<3>(a.gx, a.b_ih, b, j, 0, H) + cell_gate_recurrent<3>(partial, a.b_hh, j, 0, H));
  const float update =
      cell_sigmoid(cell_gate_input<3>(a.gx, a.b_ih, b, j, 1, H) + cell_gate_recurrent<3>(partial, a.b_hh, j, 1, H));
  const float cand = cell_tanh(cell_gate_input<3>(a.gx, a.b_ih, b, j, 2, H) +
                               reset * cell_gate_recurrent<3>(partial, a.b_hh, j, 2, H));
  const float h =
      a.h_prev[static_cast<std::size_t>(b) * static_cast<std::size_t>(a.ld_h_prev) + static_cast<std::size_t>(j)];
  a.h_out[static_cast<std::size_t>(b) * static_cast<std::size_t>(a.ld_h_out) + static_cast<std::size_t>(j)] =
      (1.0f - update) * cand + update * h;
}

}  // namespace rnnad::planted
