// PLANTED BUG (c), test-only: kernels/lstm_cell.cuh's lstm_cell_step_kernel with an off-by-one
// in the tail test of the hidden dimension (j > H instead of j >= H), so for H = 33 thread
// j = 33 of the second unit tile writes h_out[b, 33] and c_out[b, 33]: one past each row, into
// the next row or, for the last row, past the buffer. The guard canaries must show it under
// every schedule.
#pragma once

#include "cell_common.cuh"

namespace rnnad::planted {

using namespace rnnad::cuda;

__global__ void __launch_bounds__(kCellThreads) lstm_cell_tail_off_by_one_kernel(LstmCellStepArgs a) {
  RNNAD_SHARED_ARRAY(float, h_s, kCellTileB* kCellTileK);
  RNNAD_SHARED_ARRAY(float, partial, kCellPartialSize<4>);
  block_recurrent_product<4>(a.w_hh_t, a.h_prev, a.ld_h_prev, a.batch, a.hidden, h_s, partial);

  const int H = a.hidden;
  const int j = static_cast<int>(blockIdx.y) * kCellTileH + static_cast<int>(threadIdx.x);
  const int b = static_cast<int>(blockIdx.x) * kCellTileB + static_cast<int>(threadIdx.y);
  if (j > H || b >= a.batch) return;  // BUG: j > H lets unit j == H through

  float pre[4];
  for (int g = 0; g < 4; ++g)
    pre[g] = cell_gate_input<4>(a.gx, a.b_ih, b, j, g, H) + cell_gate_recurrent<4>(partial, a.b_hh, j, g, H);
  const float in_gate = cell_sigmoid(pre[0]);
  const float forget_gate = cell_sigmoid(pre[1]);
  const float cell_cand = cell_tanh(pre[2]);
  const float out_gate = cell_sigmoid(pre[3]);

  const std::size_t bh = static_cast<std::size_t>(b) * static_cast<std::size_t>(H) + static_cast<std::size_t>(j);
  const float c = forget_gate * a.c_prev[bh] + in_gate * cell_cand;
  a.c_out[bh] = c;
  a.h_out[static_cast<std::size_t>(b) * static_cast<std::size_t>(a.ld_h_out) + static_cast<std::size_t>(j)] =
      out_gate * cell_tanh(c);
}

}  // namespace rnnad::planted
