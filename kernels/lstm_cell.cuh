// Fused LSTM cell step kernel (device code; launched by kernels/lstm_cell.cu; rules in
// docs/kernels.md; run on CPUs by tests/harness).
//
// What: one time step for a batch, PyTorch's nn.LSTM cell without projection:
//   [i f g o] = gx + b_ih + h_prev W_hh^T + b_hh   (gate order i, f, g, o; G = 4H)
//   c' = sigmoid(f) * c + sigmoid(i) * tanh(g),  h' = sigmoid(o) * tanh(c').
// gx = x_t W_ih^T WITHOUT bias, precomputed by the caller for all steps.
// Layout: gx [B, 4H]; w_hh_t [H, 4H] = weight_hh transposed (w_hh_t[k*4H + g*H + j] =
// weight_hh[g*H + j][k]); b_ih, b_hh [4H] or null; h_prev [B, ld_h_prev]; c_prev, c_out [B, H]
// (c_out may be c_prev); h_out [B, ld_h_out], not overlapping h_prev. Row-major fp32.
// Launch geometry (cell_step_geometry()): grid (ceil(B/4), ceil(H/32)), block (32, 4) = 128
// threads; blockIdx.x = batch tile, blockIdx.y = tile of 32 hidden units; static shared memory
// 256 + 2048 floats = 9 KiB. Thread (x, y) finalises batch row 4*blockIdx.x + y, unit
// 32*blockIdx.y + x.
// Supported H: any H >= 1 (tails of H and B handled: units >= H and rows >= B write nothing);
// H <= 65535*32 by the grid limit. All arithmetic fp32.
#pragma once

#include "cell_common.cuh"

namespace rnnad::cuda {

/// One LSTM step; arguments and shapes: LstmCellStepArgs (rnnad/cuda/cell_kernels.h).
__global__ void __launch_bounds__(kCellThreads) lstm_cell_step_kernel(LstmCellStepArgs a) {
  RNNAD_SHARED_ARRAY(float, h_s, kCellTileB* kCellTileK);
  RNNAD_SHARED_ARRAY(float, partial, kCellPartialSize<4>);
  block_recurrent_product<4>(a.w_hh_t, a.h_prev, a.ld_h_prev, a.batch, a.hidden, h_s, partial);

  const int H = a.hidden;
  const int j = static_cast<int>(blockIdx.y) * kCellTileH + static_cast<int>(threadIdx.x);
  const int b = static_cast<int>(blockIdx.x) * kCellTileB + static_cast<int>(threadIdx.y);
  if (j >= H || b >= a.batch) return;  // tails: after the last barrier, so no barrier is skipped

  float x[4], r[4];
  for (int g = 0; g < 4; ++g) {
    x[g] = cell_gate_input<4>(a.gx, a.b_ih, b, j, g, H);
    r[g] = cell_gate_recurrent<4>(partial, a.b_hh, j, g, H);
  }
  const std::size_t bh = static_cast<std::size_t>(b) * static_cast<std::size_t>(H) + static_cast<std::size_t>(j);
  float c = a.c_prev[bh];
  const float h = cell_update<4>(x, r, 0.0f, c, false);
  a.c_out[bh] = c;
  a.h_out[static_cast<std::size_t>(b) * static_cast<std::size_t>(a.ld_h_out) + static_cast<std::size_t>(j)] = h;
}

}  // namespace rnnad::cuda
