// Fused Elman RNN cell step kernel, PyTorch's nn.RNN with nonlinearity 'tanh' or 'relu' (device
// code; launched by kernels/rnn_cell.cu; rules in docs/kernels.md; run on CPUs by tests/harness).
//
// What: h' = act(gx + b_ih + h_prev W_hh^T + b_hh) for a batch; gx = x_t W_ih^T WITHOUT bias,
// precomputed by the caller. act = tanh (cell_tanh) or relu (x < 0 ? 0 : x, so NaN stays NaN).
// Layout: gx [B, H]; w_hh_t [H, H] = weight_hh transposed; b_ih, b_hh [H] or null; h_prev
// [B, ld_h_prev]; h_out [B, ld_h_out], not overlapping h_prev. Row-major fp32.
// Launch geometry (cell_step_geometry()): as the LSTM and GRU kernels, one gate block: static
// shared memory 256 + 512 floats = 3 KiB. Supported H: any H >= 1.
#pragma once

#include "cell_common.cuh"

namespace rnnad::cuda {

/// One RNN step; arguments and shapes: RnnCellStepArgs (rnnad/cuda/cell_kernels.h).
__global__ void __launch_bounds__(kCellThreads) rnn_cell_step_kernel(RnnCellStepArgs a) {
  RNNAD_SHARED_ARRAY(float, h_s, kCellTileB* kCellTileK);
  RNNAD_SHARED_ARRAY(float, partial, kCellPartialSize<1>);
  block_recurrent_product<1>(a.w_hh_t, a.h_prev, a.ld_h_prev, a.batch, a.hidden, h_s, partial);

  const int H = a.hidden;
  const int j = static_cast<int>(blockIdx.y) * kCellTileH + static_cast<int>(threadIdx.x);
  const int b = static_cast<int>(blockIdx.x) * kCellTileB + static_cast<int>(threadIdx.y);
  if (j >= H || b >= a.batch) return;  // tails: after the last barrier, so no barrier is skipped

  const float x[1] = {cell_gate_input<1>(a.gx, a.b_ih, b, j, 0, H)};
  const float r[1] = {cell_gate_recurrent<1>(partial, a.b_hh, j, 0, H)};
  float unused_c = 0.0f;
  a.h_out[static_cast<std::size_t>(b) * static_cast<std::size_t>(a.ld_h_out) + static_cast<std::size_t>(j)] =
      cell_update<1>(x, r, 0.0f, unused_c, a.relu);
}

}  // namespace rnnad::cuda
