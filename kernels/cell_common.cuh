// The recurrent product shared by the fused LSTM and GRU step kernels (device code;
// docs/kernels.md). Tiling constants and the weight layout are in rnnad/cuda/cell_kernels.h.
//
// What: for one block's tile of kCellTileB batch rows [b0, b0 + 4) and kCellTileH hidden units
// [j0, j0 + 32), every gate's pre-activation part h_prev[b, :] . weight_hh[g*H + j, :].
// Layout: w_hh_t [H, G] row-major (w_hh_t[k*G + g*H + j] = weight_hh[g*H + j][k]); h_prev rows of
// stride ld_h_prev. Geometry: block (32, 4): threadIdx.x = unit j - j0, threadIdx.y = warp w.
// How: h_prev is staged through shared memory kCellTileK columns at a time (h_s, 4 x 64 floats);
// warp w accumulates the columns k = w, w + 4, w + 8, ... of each pass for its unit j and all 4
// rows of the tile (4 x kGates fp32 accumulators, fused multiply-add in a fixed order), so the 32
// lanes of a warp read 32 consecutive floats of w_hh_t per gate and k. The 4 warps' partial sums
// then meet in shared memory (partial, [warp][row][gate][unit]); cell_gate_preactivation() adds
// them up for one (row, unit).
// Supported H: any H >= 1. Units j >= H (last unit tile) and rows >= batch (last batch tile) take
// part in staging and in every barrier but read no weights and write nothing; a pass over the last
// partial column chunk stops at k = H.
#pragma once

#include "cell_math.cuh"
#include "kernel_common.cuh"
#include "rnnad/cuda/cell_kernels.h"

namespace rnnad::cuda {

/// Number of floats of the `partial` shared array for kGates gates.
template <int kGates>
inline constexpr int kCellPartialSize = (kCellWarps * kCellTileB * kGates * kCellTileH);

/// Index of warp w's partial sum for tile row r, gate g, unit lane x in `partial`.
__device__ __forceinline__ int cell_partial_index(int w, int r, int g, int x, int gates) {
  return ((w * kCellTileB + r) * gates + g) * kCellTileH + x;
}

/// Block-cooperative: computes the block's recurrent products and leaves the 4 warps' partial
/// sums in `partial` (kCellPartialSize<kGates> floats). Every thread of the block must call it
/// (it contains barriers). `h_s`: kCellTileB * kCellTileK floats of scratch. On return, after
/// its last barrier, `partial` is complete and visible to the whole block.
template <int kGates>
__device__ __forceinline__ void block_recurrent_product(const float* __restrict__ w_hh_t,
                                                        const float* __restrict__ h_prev, int ld_h_prev, int batch,
                                                        int hidden, RNNAD_SHARED_PTR(float) h_s,
                                                        RNNAD_SHARED_PTR(float) partial) {
  const int x = static_cast<int>(threadIdx.x);  // unit lane
  const int w = static_cast<int>(threadIdx.y);  // warp
  const int tid = w * kCellTileH + x;
  const int j = static_cast<int>(blockIdx.y) * kCellTileH + x;
  const int b0 = static_cast<int>(blockIdx.x) * kCellTileB;
  const std::size_t G = static_cast<std::size_t>(kGates) * static_cast<std::size_t>(hidden);

  float acc[kCellTileB][kGates];
  for (int r = 0; r < kCellTileB; ++r)
    for (int g = 0; g < kGates; ++g) acc[r][g] = 0.0f;

  for (int k0 = 0; k0 < hidden; k0 += kCellTileK) {
    // Stage h_prev[b0 .. b0+4, k0 .. k0+64) into h_s (row-major, 64 wide); zeros past the batch
    // and past H, so no thread ever reads an unwritten word.
    for (int e = tid; e < kCellTileB * kCellTileK; e += kCellThreads) {
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
  // The caller's thread (x, w) sums all 4 warps' partials of row w: they were written by the
  // other warps just above.
  __syncthreads();
}

/// The input part gx[b, g*H + j] + b_ih[g*H + j] of gate g's pre-activation for batch row b, unit j.
template <int kGates>
__device__ __forceinline__ float cell_gate_input(const float* __restrict__ gx, const float* __restrict__ b_ih, int b,
                                                 int j, int g, int hidden) {
  const std::size_t G = static_cast<std::size_t>(kGates) * static_cast<std::size_t>(hidden);
  const std::size_t col = static_cast<std::size_t>(g) * static_cast<std::size_t>(hidden) + static_cast<std::size_t>(j);
  return gx[static_cast<std::size_t>(b) * G + col] + cell_bias(b_ih, col);
}

/// The recurrent part h_prev[b, :] . weight_hh[g*H + j, :] + b_hh[g*H + j] of the calling
/// thread (tile row threadIdx.y, unit lane threadIdx.x), from the 4 warps' partial sums.
template <int kGates>
__device__ __forceinline__ float cell_gate_recurrent(RNNAD_SHARED_PTR(float) partial, const float* __restrict__ b_hh,
                                                     int j, int g, int hidden) {
  const int x = static_cast<int>(threadIdx.x), r = static_cast<int>(threadIdx.y);
  float s = 0.0f;
  for (int w = 0; w < kCellWarps; ++w) s += partial[cell_partial_index(w, r, g, x, kGates)];
  return s +
         cell_bias(b_hh, static_cast<std::size_t>(g) * static_cast<std::size_t>(hidden) + static_cast<std::size_t>(j));
}

}  // namespace rnnad::cuda
