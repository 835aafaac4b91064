// Persistent recurrence kernel (device code; contract, geometry and eligibility in
// rnnad/cuda/persistent_rnn.h; rules in docs/kernels.md; run on CPUs by tests/harness).
//
// What: every time step of one layer and direction in one launch, PyTorch's LSTM / GRU / RNN cell
// equations as the step kernels (cell_math.cuh): the input projections gx of all steps are
// precomputed (one GEMM), the recurrent product, biases, gates and state update run here.
// Layout: dynamic shared memory holds W_hh^T [H, G] (loaded once, read every step), and per batch
// row of the block h [H], c [H] and the step's gate sums [G]. gx [T, B, G], out [T, B, ld_out].
// Geometry: grid (ceil(B / kRows)), block (min(1024, G rounded up to 32)); block x owns batch rows
// [kRows x, kRows x + kRows). Per step, two phases separated by barriers:
//   1. thread c computes columns col = c, c + blockDim, ... of h_prev W_hh^T for all kRows rows
//      (one W load from shared memory serves kRows fused multiply-adds; h is a broadcast read),
//      adds b_hh and leaves the sums in shared memory;
//   2. thread e updates elements (row, unit) = e, e + blockDim, ... of the state: gates from the
//      sums, gx and b_ih, new c and h into shared memory and h into out.
// Shared memory: 4 (H G + kRows (2H + G)) bytes (LSTM H = 80, kRows 8: 115 KiB); the launcher opts
// in above 48 KiB. Supported H: where that fits the device (LSTM H <= 114 with kRows 8, 119 with kRows 1,
// on sm_90's 227 KiB).
#pragma once

#include "cell_math.cuh"
#include "kernel_common.cuh"
#include "rnnad/cuda/persistent_rnn.h"

namespace rnnad::cuda {

/// Gate g's input part gx[row, g*H + j] + b_ih[g*H + j].
__device__ __forceinline__ float persistent_input(const float* __restrict__ gx_row, const float* __restrict__ b_ih,
                                                  int g, int j, int hidden) {
  const std::size_t col = static_cast<std::size_t>(g) * static_cast<std::size_t>(hidden) + static_cast<std::size_t>(j);
  return gx_row[col] + cell_bias(b_ih, col);
}

/// The whole recurrence; arguments and shapes: PersistentRnnArgs. kRows: batch rows per block.
template <int kRows>
__global__ void __launch_bounds__(kPersistentMaxThreads) persistent_rnn_kernel(PersistentRnnArgs a) {
  const int H = a.hidden;
  const int gates = a.cell == PersistentCell::Lstm ? 4 : a.cell == PersistentCell::Gru ? 3 : 1;
  const int G = gates * H;
  const std::size_t HG = static_cast<std::size_t>(H) * static_cast<std::size_t>(G);
  RNNAD_DYNAMIC_SHARED_ARRAY(float, smem, HG + static_cast<std::size_t>(kRows) * static_cast<std::size_t>(2 * H + G));
  RNNAD_SHARED_PTR(float) w_s = smem;
  RNNAD_SHARED_PTR(float) h_s = smem + HG;
  RNNAD_SHARED_PTR(float) c_s = h_s + kRows * H;
  RNNAD_SHARED_PTR(float) sum_s = c_s + kRows * H;

  const int tid = static_cast<int>(threadIdx.x), threads = static_cast<int>(blockDim.x);
  const int b0 = static_cast<int>(blockIdx.x) * kRows;
  const int rows = a.batch - b0 < kRows ? a.batch - b0 : kRows;
  const std::size_t B = static_cast<std::size_t>(a.batch);

  for (std::size_t e = static_cast<std::size_t>(tid); e < HG; e += static_cast<std::size_t>(threads))
    w_s[e] = a.w_hh_t[e];
  for (int e = tid; e < kRows * H; e += threads) {
    const int r = e / H, j = e % H;
    float h = 0.0f, c = 0.0f;
    if (r < rows) {
      const std::size_t b = static_cast<std::size_t>(b0 + r);
      if (a.h0) h = a.h0[b * static_cast<std::size_t>(a.ld_h0) + static_cast<std::size_t>(j)];
      if (a.c) c = a.c[b * static_cast<std::size_t>(H) + static_cast<std::size_t>(j)];
    }
    h_s[e] = h;
    c_s[e] = c;
  }
  // W_hh, h0 and c0 are staged by all threads before any thread reads them.
  __syncthreads();

  for (int s = 0; s < a.seq_len; ++s) {
    const int t = a.reverse ? a.seq_len - 1 - s : s;
    for (int col = tid; col < G; col += threads) {
      float acc[kRows];
      for (int r = 0; r < kRows; ++r) acc[r] = 0.0f;
      for (int k = 0; k < H; ++k) {
        const float w = w_s[static_cast<std::size_t>(k) * static_cast<std::size_t>(G) + static_cast<std::size_t>(col)];
        for (int r = 0; r < kRows; ++r) {
          const float hv = h_s[r * H + k];
          acc[r] = fmaf(w, hv, acc[r]);
        }
      }
      const float bh = cell_bias(a.b_hh, static_cast<std::size_t>(col));
      for (int r = 0; r < kRows; ++r) sum_s[r * G + col] = acc[r] + bh;
    }
    // The gate sums are complete before the update reads them, and every thread has finished
    // reading h_prev from h_s before the update overwrites it.
    __syncthreads();
    for (int e = tid; e < rows * H; e += threads) {
      const int r = e / H, j = e % H;
      const std::size_t row = static_cast<std::size_t>(t) * B + static_cast<std::size_t>(b0 + r);
      const float* __restrict__ gx_row = a.gx + row * static_cast<std::size_t>(G);
      float h;
      if (a.cell == PersistentCell::Lstm) {
        const float i_gate = cell_sigmoid(persistent_input(gx_row, a.b_ih, 0, j, H) + sum_s[r * G + j]);
        const float f_gate = cell_sigmoid(persistent_input(gx_row, a.b_ih, 1, j, H) + sum_s[r * G + H + j]);
        const float g_cand = cell_tanh(persistent_input(gx_row, a.b_ih, 2, j, H) + sum_s[r * G + 2 * H + j]);
        const float o_gate = cell_sigmoid(persistent_input(gx_row, a.b_ih, 3, j, H) + sum_s[r * G + 3 * H + j]);
        const float c_prev = c_s[e];
        const float c = f_gate * c_prev + i_gate * g_cand;
        c_s[e] = c;
        h = o_gate * cell_tanh(c);
      } else if (a.cell == PersistentCell::Gru) {
        const float reset = cell_sigmoid(persistent_input(gx_row, a.b_ih, 0, j, H) + sum_s[r * G + j]);
        const float update = cell_sigmoid(persistent_input(gx_row, a.b_ih, 1, j, H) + sum_s[r * G + H + j]);
        const float rec_n = sum_s[r * G + 2 * H + j];  // W_hn h + b_hn: b_hn inside the reset product
        const float cand = cell_tanh(persistent_input(gx_row, a.b_ih, 2, j, H) + reset * rec_n);
        const float h_prev = h_s[e];
        h = (1.0f - update) * cand + update * h_prev;
      } else {
        const float pre = persistent_input(gx_row, a.b_ih, 0, j, H) + sum_s[r * G + j];
        h = a.cell == PersistentCell::RnnRelu ? (pre < 0.0f ? 0.0f : pre) : cell_tanh(pre);
      }
      h_s[e] = h;
      a.out[row * static_cast<std::size_t>(a.ld_out) + static_cast<std::size_t>(j)] = h;
    }
    // The new h is complete in h_s before the next step's products read it, and every gate sum
    // has been read before the next step overwrites sum_s.
    __syncthreads();
  }

  for (int e = tid; e < rows * H; e += threads) {
    const std::size_t b = static_cast<std::size_t>(b0 + e / H), j = static_cast<std::size_t>(e % H);
    const float h = h_s[e];
    if (a.h_n) a.h_n[b * static_cast<std::size_t>(H) + j] = h;
    if (a.c) {
      const float c = c_s[e];
      a.c[b * static_cast<std::size_t>(H) + j] = c;
    }
  }
}

}  // namespace rnnad::cuda
