// Element-wise gate update of the GEMM-per-step strategy (device code; contract and geometry in
// rnnad/cuda/gate_kernels.h; rules in docs/kernels.md; run on CPUs by tests/harness).
// Geometry: grid (min(ceil(B H / 256), 65535 * 8)), block (256): thread e of the grid handles the
// elements (row, unit) = (e / H, e % H), e + grid size, ... No shared memory, no barrier.
// Per element: input parts gx + b_ih and recurrent parts gh + b_hh of its gates, then
// cell_update() (kernels/cell_math.cuh): the same equations and rounding order as the fused cells.
#pragma once

#include "cell_math.cuh"
#include "kernel_common.cuh"
#include "rnnad/cuda/gate_kernels.h"

namespace rnnad::cuda {

/// The update of every (row, unit); arguments and shapes: CellGatesArgs. kGates: 4 LSTM, 3 GRU,
/// 1 RNN (tanh or relu by a.cell).
template <int kGates>
__global__ void __launch_bounds__(kCellGatesThreads) cell_gates_kernel(CellGatesArgs a) {
  const long long H = a.hidden, n = static_cast<long long>(a.batch) * H;
  const long long stride = static_cast<long long>(gridDim.x) * kCellGatesThreads;
  for (long long e = static_cast<long long>(blockIdx.x) * kCellGatesThreads + static_cast<long long>(threadIdx.x);
       e < n; e += stride) {
    const std::size_t b = static_cast<std::size_t>(e / H), j = static_cast<std::size_t>(e % H);
    const std::size_t G = static_cast<std::size_t>(kGates) * static_cast<std::size_t>(H);
    float x[kGates], r[kGates];
    for (int g = 0; g < kGates; ++g) {
      const std::size_t col = static_cast<std::size_t>(g) * static_cast<std::size_t>(H) + j;
      x[g] = a.gx[b * G + col] + cell_bias(a.b_ih, col);
      r[g] = a.gh[b * G + col] + cell_bias(a.b_hh, col);
    }
    float c = 0.0f, h_prev = 0.0f;
    if constexpr (kGates == 4) c = a.c[b * static_cast<std::size_t>(H) + j];
    if constexpr (kGates == 3) h_prev = a.h_prev[b * static_cast<std::size_t>(a.ld_h_prev) + j];
    const float h = cell_update<kGates>(x, r, h_prev, c, a.cell == CellType::RnnRelu);
    if constexpr (kGates == 4) a.c[b * static_cast<std::size_t>(H) + j] = c;
    a.h_out[b * static_cast<std::size_t>(a.ld_h_out) + j] = h;
  }
}

}  // namespace rnnad::cuda
