// Persistent recurrence: one launch runs every time step of one layer and direction, each block
// keeping the whole recurrent matrix W_hh in shared memory for all steps (performance.md §3.3:
// "where W_hh fits one SM"). Argument struct, geometry, eligibility, checks and launcher; plain
// C++17, no CUDA header (rules: docs/kernels.md). Kernel body: kernels/persistent_rnn.cuh.
#pragma once

#include <cstddef>
#include <string>

#include "rnnad/cell_type.h"
#include "rnnad/error.h"

struct CUstream_st;

namespace rnnad::cuda {

/// Cell of a persistent launch (PyTorch's equations, as the step kernels).
enum class PersistentCell : int { Lstm = 0, Gru = 1, RnnTanh = 2, RnnRelu = 3 };

inline constexpr int kPersistentMaxThreads = 1024;

/// Shapes (B = batch, H = hidden, G = 4H / 3H / H; T = seq_len), row-major fp32 device memory:
///   gx [T, B, G]: x_t W_ih^T WITHOUT bias for every step (contiguous);
///   w_hh_t [H, G] (weight_hh transposed, as the step kernels); b_ih, b_hh [G] or null;
///   h0 [B, ld_h0] or null (zeros); c [B, H] (LSTM: the initial cell state on entry, the final
///   one on exit; null = start from zeros and do not return it);
///   out [T, B, ld_out]: h_t of step t for batch row b at out[(t * B + b) * ld_out] (the caller
///   offsets `out` by d*H for a direction of a bidirectional layer); h_n [B, H] or null.
/// Steps run t = 0 .. T-1, or T-1 .. 0 when `reverse`. h0 is read before the first step writes:
/// it may point into `out` outside this launch's rows (the last row of a previous chunk).
struct PersistentRnnArgs {
  const float* gx = nullptr;
  const float* w_hh_t = nullptr;
  const float* b_ih = nullptr;
  const float* b_hh = nullptr;
  const float* h0 = nullptr;
  float* c = nullptr;
  float* out = nullptr;
  float* h_n = nullptr;
  int seq_len = 0;
  int batch = 0;
  int hidden = 0;
  int ld_h0 = 0;
  int ld_out = 0;
  PersistentCell cell = PersistentCell::Lstm;
  bool reverse = false;
};

/// The persistent kernel's cell for a PyTorch cell type.
inline PersistentCell persistent_cell(CellType c) {
  switch (c) {
    case CellType::Lstm: return PersistentCell::Lstm;
    case CellType::Gru: return PersistentCell::Gru;
    case CellType::RnnTanh: return PersistentCell::RnnTanh;
    case CellType::RnnRelu: return PersistentCell::RnnRelu;
  }
  return PersistentCell::Lstm;
}

/// Gates per cell: 4, 3, 1.
inline int persistent_gates(PersistentCell cell) {
  return cell == PersistentCell::Lstm ? 4 : cell == PersistentCell::Gru ? 3 : 1;
}

/// Batch rows per block: 1 for batch 1 (latency), else 8 (each weight read serves 8 rows).
inline int persistent_rows(int batch) { return batch == 1 ? 1 : 8; }

/// Dynamic shared memory of a launch: W_hh [H*G] + per row h [H], c [H] and gate sums [G].
inline std::size_t persistent_shared_bytes(PersistentCell cell, int hidden, int rows) {
  const std::size_t H = static_cast<std::size_t>(hidden), G = H * static_cast<std::size_t>(persistent_gates(cell));
  return (H * G + static_cast<std::size_t>(rows) * (2 * H + G)) * sizeof(float);
}

/// Geometry: grid (ceil(B / rows)), block (min(1024, G rounded up to 32)).
struct PersistentGeometry {
  unsigned grid_x = 0, block_x = 0;
  int rows = 0;
  std::size_t shared_bytes = 0;
};

inline PersistentGeometry persistent_geometry(const PersistentRnnArgs& a) {
  const int rows = persistent_rows(a.batch);
  const int G = a.hidden * persistent_gates(a.cell);
  const int threads = ((G + 31) / 32) * 32;
  return {static_cast<unsigned>((a.batch + rows - 1) / rows),
          static_cast<unsigned>(threads < kPersistentMaxThreads ? threads : kPersistentMaxThreads), rows,
          persistent_shared_bytes(a.cell, a.hidden, rows)};
}

/// Throws ShapeError naming the argument when `a` breaks the contract above, or when its shared
/// memory exceeds `max_shared_bytes` (the device's opt-in limit per block).
inline void check_persistent_rnn_args(const PersistentRnnArgs& a, std::size_t max_shared_bytes) {
  if (a.seq_len < 1 || a.batch < 1 || a.hidden < 1)
    throw ShapeError("persistent_rnn: seq_len, batch and hidden must be >= 1 (got " + std::to_string(a.seq_len) +
                     ", " + std::to_string(a.batch) + ", " + std::to_string(a.hidden) + ")");
  if (!a.gx || !a.w_hh_t || !a.out) throw ShapeError("persistent_rnn: gx, w_hh_t and out must not be null");
  if (a.ld_out < a.hidden || (a.h0 && a.ld_h0 < a.hidden))
    throw ShapeError("persistent_rnn: row strides must be >= hidden size " + std::to_string(a.hidden));
  const std::size_t need = persistent_shared_bytes(a.cell, a.hidden, persistent_rows(a.batch));
  if (need > max_shared_bytes)
    throw ShapeError("persistent_rnn: hidden size " + std::to_string(a.hidden) + " needs " + std::to_string(need) +
                     " bytes of shared memory per block, the device allows " + std::to_string(max_shared_bytes));
}

/// Launches the whole recurrence on `stream` (current device); asynchronous. Throws ShapeError
/// before launching (check_persistent_rnn_args with the device's opt-in limit
/// `max_shared_bytes`, Context::max_shared_bytes()), CudaError when the launch fails.
void persistent_rnn(const PersistentRnnArgs& args, std::size_t max_shared_bytes, CUstream_st* stream);

}  // namespace rnnad::cuda
