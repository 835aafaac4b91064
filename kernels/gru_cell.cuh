// Fused GRU cell step kernel (device code; launched by kernels/gru_cell.cu; rules in
// docs/kernels.md; run on CPUs by tests/harness).
//
// What: one time step for a batch, PyTorch's nn.GRU cell (gate order r, z, n; G = 3H):
//   r = sigmoid(gx_r + b_ir + (h W_hr^T) + b_hr),  z = sigmoid(gx_z + b_iz + (h W_hz^T) + b_hz),
//   n = tanh(gx_n + b_in + r * ((h W_hn^T) + b_hn)),   h' = (1 - z) * n + z * h.
// b_hn sits INSIDE the reset product (PyTorch's placement; the reset-before-matmul variant of
// other frameworks is a different model). gx = x_t W_ih^T WITHOUT bias, precomputed by the caller.
// Layout: gx [B, 3H]; w_hh_t [H, 3H] = weight_hh transposed (w_hh_t[k*3H + g*H + j] =
// weight_hh[g*H + j][k]); b_ih, b_hh [3H] or null; h_prev [B, ld_h_prev]; h_out [B, ld_h_out],
// not overlapping h_prev. Row-major fp32.
// Launch geometry (cell_step_geometry()): grid (ceil(B/4), ceil(H/32)), block (32, 4) = 128
// threads; blockIdx.x = batch tile, blockIdx.y = tile of 32 hidden units; static shared memory
// 256 + 1536 floats = 7 KiB. Thread (x, y) finalises batch row 4*blockIdx.x + y, unit
// 32*blockIdx.y + x.
// Supported H: any H >= 1 (tails of H and B handled); H <= 65535*32 by the grid limit. fp32.
#pragma once

#include "cell_common.cuh"

namespace rnnad::cuda {

/// One GRU step; arguments and shapes: GruCellStepArgs (rnnad/cuda/cell_kernels.h).
__global__ void __launch_bounds__(kCellThreads) gru_cell_step_kernel(GruCellStepArgs a) {
  RNNAD_SHARED_ARRAY(float, h_s, kCellTileB* kCellTileK);
  RNNAD_SHARED_ARRAY(float, partial, kCellPartialSize<3>);
  block_recurrent_product<3>(a.w_hh_t, a.h_prev, a.ld_h_prev, a.batch, a.hidden, h_s, partial);

  const int H = a.hidden;
  const int j = static_cast<int>(blockIdx.y) * kCellTileH + static_cast<int>(threadIdx.x);
  const int b = static_cast<int>(blockIdx.x) * kCellTileB + static_cast<int>(threadIdx.y);
  if (j >= H || b >= a.batch) return;  // tails: after the last barrier, so no barrier is skipped

  float x[3], r[3];  // r[2] includes b_hn: the reset gate multiplies (W_hn h + b_hn)
  for (int g = 0; g < 3; ++g) {
    x[g] = cell_gate_input<3>(a.gx, a.b_ih, b, j, g, H);
    r[g] = cell_gate_recurrent<3>(partial, a.b_hh, j, g, H);
  }
  const float h_prev =
      a.h_prev[static_cast<std::size_t>(b) * static_cast<std::size_t>(a.ld_h_prev) + static_cast<std::size_t>(j)];
  float unused_c = 0.0f;
  a.h_out[static_cast<std::size_t>(b) * static_cast<std::size_t>(a.ld_h_out) + static_cast<std::size_t>(j)] =
      cell_update<3>(x, r, h_prev, unused_c, false);
}

}  // namespace rnnad::cuda
