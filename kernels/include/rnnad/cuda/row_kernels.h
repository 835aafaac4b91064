// Row-broadcast kernel: fills the rows of a matrix with a bias vector before a cuBLAS GEMM adds
// x W^T on top (beta = 1), which is how cuda::Linear computes y = x W^T + b. Plain C++17, no CUDA
// header (rules: docs/kernels.md). Kernel body: kernels/row_kernels.cuh.
#pragma once

#include <string>

#include "rnnad/error.h"

struct CUstream_st;

namespace rnnad::cuda {

inline constexpr int kBiasRowsThreads = 128;  ///< threads per block, one column each
inline constexpr int kBiasRowsMaxGridY = 65535;

/// y[r * ld_y + c] = bias[c] for r < rows, c < cols. y: device [rows, ld_y] row-major fp32;
/// bias: device [cols]. Columns c >= cols of each row are not touched.
struct BiasRowsArgs {
  float* y = nullptr;
  const float* bias = nullptr;
  long long rows = 0;
  int cols = 0;
  int ld_y = 0;
};

/// Geometry: grid (ceil(cols / 128), min(rows, 65535)), block (128); blocks stride over rows.
struct BiasRowsGeometry {
  unsigned grid_x = 0, grid_y = 0, block_x = 0;
};

inline BiasRowsGeometry bias_rows_geometry(const BiasRowsArgs& a) {
  const long long gy = a.rows < kBiasRowsMaxGridY ? a.rows : kBiasRowsMaxGridY;
  return {static_cast<unsigned>((a.cols + kBiasRowsThreads - 1) / kBiasRowsThreads), static_cast<unsigned>(gy),
          static_cast<unsigned>(kBiasRowsThreads)};
}

/// Throws ShapeError naming the argument when `a` breaks the contract above.
inline void check_bias_rows_args(const BiasRowsArgs& a) {
  if (a.rows < 1 || a.cols < 1)
    throw ShapeError("bias_rows: rows and cols must be >= 1 (got " + std::to_string(a.rows) + ", " +
                     std::to_string(a.cols) + ")");
  if (a.ld_y < a.cols)
    throw ShapeError("bias_rows: ld_y " + std::to_string(a.ld_y) + " is smaller than cols " + std::to_string(a.cols));
  if (!a.y || !a.bias) throw ShapeError("bias_rows: y and bias must not be null");
}

/// Launches the fill on `stream`; asynchronous. Throws ShapeError before launching, CudaError
/// when the launch fails.
void bias_rows(const BiasRowsArgs& args, CUstream_st* stream);

}  // namespace rnnad::cuda
