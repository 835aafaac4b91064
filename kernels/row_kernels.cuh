// Row-broadcast of a bias vector (device code; contract and geometry in
// rnnad/cuda/row_kernels.h; rules in docs/kernels.md).
// Geometry: grid (ceil(cols / 128), min(rows, 65535)), block (128): thread x of block (bx, by)
// writes column 128 * bx + x of rows by, by + gridDim.y, ... No shared memory, no barrier.
#pragma once

#include "kernel_common.cuh"
#include "rnnad/cuda/row_kernels.h"

namespace rnnad::cuda {

/// y[r, c] = bias[c]; arguments: BiasRowsArgs.
__global__ void __launch_bounds__(kBiasRowsThreads) bias_rows_kernel(BiasRowsArgs a) {
  const int c = static_cast<int>(blockIdx.x) * kBiasRowsThreads + static_cast<int>(threadIdx.x);
  if (c >= a.cols) return;
  const float b = a.bias[c];
  for (long long r = static_cast<long long>(blockIdx.y); r < a.rows; r += static_cast<long long>(gridDim.y))
    a.y[static_cast<std::size_t>(r) * static_cast<std::size_t>(a.ld_y) + static_cast<std::size_t>(c)] = b;
}

}  // namespace rnnad::cuda
