// Element-wise gate update for the GEMM-per-step strategy: when a batch is large, the recurrent
// product h_prev W_hh^T of a step is one cuBLAS GEMM (gh), and this kernel applies biases, gates
// and the state update (PyTorch's equations, as every rnnad kernel: kernels/cell_math.cuh).
// Argument struct, geometry, checks and launcher; plain C++17, no CUDA header (rules:
// docs/kernels.md). Kernel body: kernels/gate_kernels.cuh.
#pragma once

#include <string>

#include "rnnad/cell_type.h"
#include "rnnad/error.h"

struct CUstream_st;

namespace rnnad::cuda {

inline constexpr int kCellGatesThreads = 256;  ///< threads per block, one (row, unit) each
inline constexpr int kCellGatesMaxBlocks = 65535 * 8;

/// Shapes (B = batch, H = hidden, G = 4H / 3H / H), row-major fp32 device memory:
///   gx [B, G]: x W_ih^T without bias; gh [B, G]: h_prev W_hh^T without bias (contiguous);
///   b_ih, b_hh [G] or null; h_prev [B, ld_h_prev] (read by GRU only); c [B, H] (LSTM: the
///   previous cell state, overwritten with the new one); h_out [B, ld_h_out], which must not
///   overlap h_prev.
struct CellGatesArgs {
  const float* gx = nullptr;
  const float* gh = nullptr;
  const float* b_ih = nullptr;
  const float* b_hh = nullptr;
  const float* h_prev = nullptr;
  float* c = nullptr;
  float* h_out = nullptr;
  int batch = 0;
  int hidden = 0;
  int ld_h_prev = 0;
  int ld_h_out = 0;
  CellType cell = CellType::Lstm;
};

/// Geometry: grid (min(ceil(B H / 256), 65535 * 8)), block (256); blocks stride over the B H
/// (row, unit) elements.
inline unsigned cell_gates_blocks(const CellGatesArgs& a) {
  const long long n = static_cast<long long>(a.batch) * a.hidden;
  const long long blocks = (n + kCellGatesThreads - 1) / kCellGatesThreads;
  return static_cast<unsigned>(blocks < kCellGatesMaxBlocks ? blocks : kCellGatesMaxBlocks);
}

/// Throws ShapeError naming the argument when `a` breaks the contract above.
inline void check_cell_gates_args(const CellGatesArgs& a) {
  if (a.batch < 1 || a.hidden < 1)
    throw ShapeError("cell_gates: batch and hidden must be >= 1 (got " + std::to_string(a.batch) + ", " +
                     std::to_string(a.hidden) + ")");
  if (!a.gx || !a.gh || !a.h_out || (a.cell == CellType::Lstm && !a.c) || (a.cell == CellType::Gru && !a.h_prev))
    throw ShapeError("cell_gates: gx, gh, h_out (and c for an LSTM, h_prev for a GRU) must not be null");
  if (a.ld_h_out < a.hidden || (a.h_prev && a.ld_h_prev < a.hidden))
    throw ShapeError("cell_gates: row strides must be >= hidden size " + std::to_string(a.hidden));
}

/// Launches the update on `stream`; asynchronous. Throws ShapeError before launching, CudaError
/// when the launch fails.
void cell_gates(const CellGatesArgs& args, CUstream_st* stream);

}  // namespace rnnad::cuda
