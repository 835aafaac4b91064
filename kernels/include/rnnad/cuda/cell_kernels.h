// Fused LSTM, GRU and RNN (tanh/relu) cell step kernels: argument structs, launch geometry, argument checks and
// host launchers. Plain C++17 (no CUDA header): the engine, the GPU tests and the CPU harness
// include it. Kernel bodies: kernels/lstm_cell.cuh, kernels/gru_cell.cuh; rules: docs/kernels.md.
//
// One call = one time step of one layer and direction for a batch. The input projection
// x_t W_ih^T of every step is computed beforehand by the caller (one GEMM over all steps) and passed
// per step as gx, WITHOUT biases; the kernel adds b_ih and b_hh itself, does the recurrent product
// h_prev W_hh^T, the gate nonlinearities and the state update in one pass (PyTorch's equations,
// design.md §3). Gate order is PyTorch's: LSTM i, f, g, o; GRU r, z, n; RNN one block (G = 4H, 3H or H).
//
// Weight layout: w_hh_t is the TRANSPOSE of PyTorch's weight_hh [G, H], i.e. [H, G] row-major:
//   w_hh_t[k * G + g * H + j] = weight_hh[g * H + j][k]
// so that the 32 threads of a warp (consecutive hidden units j) read consecutive floats for each k.
// Biases b_ih, b_hh: PyTorch's [G] vectors, same gate order; either may be null (bias=False).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "rnnad/error.h"

struct CUstream_st;  // cudaStream_t without <cuda_runtime.h>

namespace rnnad::cuda {

// Tiling shared by both cell kernels (see kernels/cell_common.cuh for how they are used).
inline constexpr int kCellTileH = 32;  ///< hidden units per block: threadIdx.x (one warp wide)
inline constexpr int kCellWarps = 4;   ///< warps per block: threadIdx.y; they split the k loop
inline constexpr int kCellTileB = 4;   ///< batch rows per block; warp y finalises row y of the tile
inline constexpr int kCellTileK = 64;  ///< columns of h_prev staged in shared memory per pass
inline constexpr int kCellThreads = kCellTileH * kCellWarps;
static_assert(kCellTileB == kCellWarps, "each warp finalises one batch row of the tile");

/// One LSTM step: c' = f*c + i*g, h' = o*tanh(c') with
/// [i f g o] = gx + b_ih + h_prev W_hh^T + b_hh, i/f/o = sigmoid, g = tanh.
/// Shapes (B = batch, H = hidden, G = 4H), row-major, fp32, device memory:
///   gx [B, G] (contiguous, no bias), w_hh_t [H, G] (transposed weight_hh), b_ih/b_hh [G] or null,
///   h_prev [B, ld_h_prev], c_prev [B, H], h_out [B, ld_h_out], c_out [B, H].
/// c_out may equal c_prev (each element is read and then written by the same thread); h_out must
/// not overlap h_prev (every block reads all of h_prev). ld_* >= H lets h live inside a wider
/// row, e.g. the output sequence [T, B, D*H] of a bidirectional layer.
struct LstmCellStepArgs {
  const float* gx = nullptr;
  const float* w_hh_t = nullptr;
  const float* b_ih = nullptr;
  const float* b_hh = nullptr;
  const float* h_prev = nullptr;
  const float* c_prev = nullptr;
  float* h_out = nullptr;
  float* c_out = nullptr;
  int batch = 0;
  int hidden = 0;
  int ld_h_prev = 0;
  int ld_h_out = 0;
};

/// One GRU step (PyTorch): with gx = x W_ih^T (no bias) and gh = h_prev W_hh^T,
///   r = sigmoid(gx_r + b_ir + gh_r + b_hr), z = sigmoid(gx_z + b_iz + gh_z + b_hz),
///   n = tanh(gx_n + b_in + r * (gh_n + b_hn))   (b_hn INSIDE the reset product),
///   h' = (1 - z) * n + z * h_prev.
/// Shapes (G = 3H): gx [B, G], w_hh_t [H, G], b_ih/b_hh [G] or null, h_prev [B, ld_h_prev],
/// h_out [B, ld_h_out]; h_out must not overlap h_prev.
struct GruCellStepArgs {
  const float* gx = nullptr;
  const float* w_hh_t = nullptr;
  const float* b_ih = nullptr;
  const float* b_hh = nullptr;
  const float* h_prev = nullptr;
  float* h_out = nullptr;
  int batch = 0;
  int hidden = 0;
  int ld_h_prev = 0;
  int ld_h_out = 0;
};

/// One Elman RNN step (PyTorch nn.RNN): h' = act(gx + b_ih + h_prev W_hh^T + b_hh), act = tanh, or
/// relu when `relu`. Shapes (G = H): gx [B, H], w_hh_t [H, H], b_ih/b_hh [H] or null, h_prev
/// [B, ld_h_prev], h_out [B, ld_h_out]; h_out must not overlap h_prev.
struct RnnCellStepArgs {
  const float* gx = nullptr;
  const float* w_hh_t = nullptr;
  const float* b_ih = nullptr;
  const float* b_hh = nullptr;
  const float* h_prev = nullptr;
  float* h_out = nullptr;
  int batch = 0;
  int hidden = 0;
  int ld_h_prev = 0;
  int ld_h_out = 0;
  bool relu = false;
};

/// Launch geometry of the cell kernels: grid (ceil(B / 4), ceil(H / 32)), block (32, 4);
/// static shared memory only (no dynamic bytes).
struct CellStepGeometry {
  unsigned grid_x = 0, grid_y = 0, block_x = 0, block_y = 0;
};

/// Geometry for `batch` rows and `hidden` units (both >= 1; check_*_args() first).
inline CellStepGeometry cell_step_geometry(int batch, int hidden) {
  return {static_cast<unsigned>((batch + kCellTileB - 1) / kCellTileB),
          static_cast<unsigned>((hidden + kCellTileH - 1) / kCellTileH), static_cast<unsigned>(kCellTileH),
          static_cast<unsigned>(kCellWarps)};
}

namespace detail {

inline bool overlaps(const float* a, std::size_t a_len, const float* b, std::size_t b_len) {
  const auto pa = reinterpret_cast<std::uintptr_t>(a), pb = reinterpret_cast<std::uintptr_t>(b);
  return pa < pb + b_len * sizeof(float) && pb < pa + a_len * sizeof(float);
}

inline void check_cell_common(const char* op, const float* gx, const float* w_hh_t, const float* h_prev,
                              const float* h_out, int batch, int hidden, int ld_h_prev, int ld_h_out) {
  const std::string p = std::string(op) + ": ";
  if (batch < 1) throw ShapeError(p + "batch must be >= 1 (got " + std::to_string(batch) + ")");
  if (hidden < 1) throw ShapeError(p + "hidden size must be >= 1 (got " + std::to_string(hidden) + ")");
  // grid.y = ceil(H / 32) <= 65535; G = 4H stays far below INT_MAX.
  if (hidden > 65535 * kCellTileH)
    throw ShapeError(p + "hidden size " + std::to_string(hidden) + " exceeds the kernel's limit of " +
                     std::to_string(65535 * kCellTileH));
  if (ld_h_prev < hidden || ld_h_out < hidden)
    throw ShapeError(p + "row strides must be >= hidden size " + std::to_string(hidden) + " (got ld_h_prev " +
                     std::to_string(ld_h_prev) + ", ld_h_out " + std::to_string(ld_h_out) + ")");
  if (!gx || !w_hh_t || !h_prev || !h_out) throw ShapeError(p + "gx, w_hh_t, h_prev and h_out must not be null");
  const std::size_t rows = static_cast<std::size_t>(batch - 1);
  if (overlaps(h_prev, rows * static_cast<std::size_t>(ld_h_prev) + static_cast<std::size_t>(hidden), h_out,
               rows * static_cast<std::size_t>(ld_h_out) + static_cast<std::size_t>(hidden)))
    throw ShapeError(p + "h_out overlaps h_prev (every block reads all of h_prev: use two buffers)");
}

}  // namespace detail

/// Throws ShapeError naming the argument when `a` breaks the contract above.
inline void check_lstm_cell_step_args(const LstmCellStepArgs& a) {
  detail::check_cell_common("lstm_cell_step", a.gx, a.w_hh_t, a.h_prev, a.h_out, a.batch, a.hidden, a.ld_h_prev,
                            a.ld_h_out);
  if (!a.c_prev || !a.c_out) throw ShapeError("lstm_cell_step: c_prev and c_out must not be null");
  const std::size_t n = static_cast<std::size_t>(a.batch) * static_cast<std::size_t>(a.hidden);
  if (a.c_out != a.c_prev && detail::overlaps(a.c_prev, n, a.c_out, n))
    throw ShapeError("lstm_cell_step: c_out must be c_prev itself or not overlap it");
}

/// Throws ShapeError naming the argument when `a` breaks the contract above.
inline void check_gru_cell_step_args(const GruCellStepArgs& a) {
  detail::check_cell_common("gru_cell_step", a.gx, a.w_hh_t, a.h_prev, a.h_out, a.batch, a.hidden, a.ld_h_prev,
                            a.ld_h_out);
}

/// Throws ShapeError naming the argument when `a` breaks the contract above.
inline void check_rnn_cell_step_args(const RnnCellStepArgs& a) {
  detail::check_cell_common("rnn_cell_step", a.gx, a.w_hh_t, a.h_prev, a.h_out, a.batch, a.hidden, a.ld_h_prev,
                            a.ld_h_out);
}

/// Launches one LSTM step on `stream` (null: the legacy default stream). Asynchronous: returns
/// after the launch. Throws ShapeError (check_lstm_cell_step_args) before launching, CudaError
/// when the launch fails (configuration errors; faults inside the kernel surface at the next
/// synchronising CUDA call).
void lstm_cell_step(const LstmCellStepArgs& args, CUstream_st* stream = nullptr);

/// Launches one GRU step on `stream`; same contract as lstm_cell_step().
void gru_cell_step(const GruCellStepArgs& args, CUstream_st* stream = nullptr);

/// Launches one RNN (tanh/relu) step on `stream`; same contract as lstm_cell_step().
void rnn_cell_step(const RnnCellStepArgs& args, CUstream_st* stream = nullptr);

}  // namespace rnnad::cuda
