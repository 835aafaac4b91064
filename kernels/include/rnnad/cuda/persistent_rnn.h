// Persistent recurrence: one launch runs every time step of one layer and direction with the
// recurrent matrix W_hh on chip for all steps (performance.md §3.3): in registers or in shared
// memory of one block; split over the blocks of a thread-block cluster (sm_90, distributed
// shared memory) when one SM cannot hold it; or split over up to every SM of the device, the
// blocks exchanging h through global memory and a grid-wide barrier (cooperative launch). Argument struct, the plan
// (geometry), eligibility, checks and launcher; plain C++17, no CUDA header (rules: docs/kernels.md, §9). Kernel body:
// kernels/persistent_rnn.cuh.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "rnnad/cell_type.h"
#include "rnnad/error.h"
#include "rnnad/half_bits.h"

struct CUstream_st;

namespace rnnad::cuda {

/// Cell of a persistent launch (PyTorch's equations, as the step kernels). GruFolded: a GRU
/// decoder with its output head folded in (rnnad/cuda/feedback_decoder.h), four column blocks
/// [r, z, n_h, n_x]: n = tanh(n_x + b_ih[n_x] + r * (n_h + b_hh[n_h])), the rest as Gru.
enum class PersistentCell : int { Lstm = 0, Gru = 1, RnnTanh = 2, RnnRelu = 3, GruFolded = 4 };

/// How W_hh may be held on chip: F32, or two 16-bit values per 32-bit word (F16: IEEE binary16;
/// BF16: bfloat16). 16 bits are exact only for a model whose weights were stored in that format
/// (safetensors F16 / BF16, field case F21): the products and sums stay fp32 either way.
enum class PersistentWeights : int { F32 = 0, F16 = 1, BF16 = 2 };

/// Shapes (B = batch, H = hidden, G = 4H / 3H / H; T = seq_len), row-major fp32 device memory:
///   gx [T, B, G]: x_t W_ih^T WITHOUT bias for every step (contiguous), or null: no input
///     (gates = h W_hh^T + b_ih + b_hh; the folded decoder, rnnad/cuda/feedback_decoder.h);
///   w_hh_t [H, G] (weight_hh transposed, as the step kernels); b_ih, b_hh [G] or null;
///   h0 [B, ld_h0] or null (zeros); c [B, H] (LSTM: the initial cell state on entry, the final
///   one on exit; null = start from zeros and do not return it);
///   out [T, B, ld_out]: h_t of step t for batch row b at out[(t * B + b) * ld_out] (the caller
///   offsets `out` by d*H for a direction of a bidirectional layer); h_n [B, H] or null.
/// Steps run t = 0 .. T-1, or T-1 .. 0 when `reverse`. h0 is read before the first step writes:
/// it may point into `out` outside this launch's rows (the last row of a previous chunk).
/// exact_weights: a 16-bit format every value of w_hh_t is exact in (persistent_exact_weights()),
/// so the plan may hold W_hh in it in shared memory; F32 (the default) claims nothing. A wrong
/// claim rounds the weights (never checked on the device: the caller checks on the host).
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
  PersistentWeights exact_weights = PersistentWeights::F32;
};

/// The 16-bit format every value of every array in `arrays` is exact in: BF16 when all are (its
/// unpacking is cheaper), else F16, else F32 (none). Each element is a pair (const float* values
/// in host memory, std::size_t count); O(total count).
template <class Arrays>
PersistentWeights persistent_exact_weights(const Arrays& arrays) {
  bool bf16 = true, f16 = true;
  for (const auto& [w, n] : arrays)
    for (std::size_t i = 0; i < n && (bf16 || f16); ++i) {
      bf16 = bf16 && exact_in_bf16(w[i]);
      f16 = f16 && exact_in_f16(w[i]);
    }
  return bf16 ? PersistentWeights::BF16 : f16 ? PersistentWeights::F16 : PersistentWeights::F32;
}

/// The persistent kernel's cell for a PyTorch cell type.
inline PersistentCell persistent_cell(CellType c) {
  switch (c) {
    case CellType::Lstm:
      return PersistentCell::Lstm;
    case CellType::Gru:
      return PersistentCell::Gru;
    case CellType::RnnTanh:
      return PersistentCell::RnnTanh;
    case CellType::RnnRelu:
      return PersistentCell::RnnRelu;
  }
  return PersistentCell::Lstm;
}

/// Column blocks per cell (G / H): 4 (LSTM, folded GRU), 3 (GRU), 1 (RNN).
inline constexpr int persistent_gates(PersistentCell cell) {
  return cell == PersistentCell::Lstm || cell == PersistentCell::GruFolded ? 4 : cell == PersistentCell::Gru ? 3 : 1;
}

/// What the plan needs to know of the device (cuda::Context supplies it).
struct PersistentDevice {
  int sm_count = 0;
  std::size_t max_shared_bytes = 0;  ///< dynamic shared memory one block may opt in to
  bool clusters = false;             ///< thread-block clusters and DSM in the device and in the loaded kernel code
                                     ///< (sm_90+, and not JIT-compiled from the compute_75 PTX: persistent_clusters())
  bool grid_sync = false;            ///< cooperative launches (grid-wide barrier; sm_60+)
};

/// Register-resident weight counts per lane and gate the kernel is instantiated for (the lane's
/// k values are padded with zero weights up to one of these).
inline constexpr int kPersistentRegKpt[] = {4, 8, 12, 16, 24, 32};
/// Largest cluster the plan uses (the portable limit; the harness models up to 8 too).
inline constexpr int kPersistentMaxCluster = 8;
/// Batch rows per block (cluster) when the batch has more rows than the device has SMs.
inline constexpr int kPersistentWideRows = 8;

/// Registers per thread the plan budgets for a kernel variant: the weights (gates x reg_kpt, 0 in
/// shared-memory mode), the accumulators (gates x rows), the prefetched input projection (gates)
/// and 40 for addresses, loop state and the activations. It sets the variant's __launch_bounds__;
/// ptxas may use fewer. That no variant spills is checked by the ptxas_report test (§10).
inline constexpr int persistent_reg_estimate(int gates, int reg_kpt, int rows) {
  return gates * (reg_kpt + rows + 1) + 40;
}

/// Threads per block a kernel variant may be launched with, so that ptxas may give every thread
/// the estimate: registers are granted in steps of 8 per thread, and a block's warps in groups of
/// 4 (one per SM sub-partition) share the 64 K register file. At most 1024. The kernel's
/// __launch_bounds__ uses the same value.
inline constexpr int persistent_max_threads(int gates, int reg_kpt, int rows) {
  const int regs = (persistent_reg_estimate(gates, reg_kpt, rows) + 7) / 8 * 8;
  const int warps = 65536 / (128 * regs) * 4;
  return warps * 32 < 1024 ? warps * 32 : 1024;
}

/// How one launch runs (docs/kernels.md §9):
///   grid (cluster * ceil(B / rows)), block (threads): a group of `cluster` blocks owns batch
///   rows [rows q, rows q + rows) of slice q = blockIdx.x / cluster; its block of rank r owns
///   hidden units [r units, r units + units) for all gates.
///   Thread t works on local unit t / slices and k values k = (t % slices) + slices * i,
///   i < kpt: `slices` lanes (at least `rows`) split each unit's dot products over k and meet by
///   warp shuffles, which leave each row's sums in one lane.
///   reg_kpt > 0: each thread keeps its gates x reg_kpt weights in registers (kpt <= reg_kpt,
///   padded with zeros), as fp32; 0: the weights live in dynamic shared memory, as fp32
///   [kpt][gates][threads] words (weights F32), or as 16-bit pairs [ceil(kpt / 2)][gates][threads]
///   (weights F16 / BF16: word (p, g, t) holds k index 2p in its low half, 2p + 1 in its high one).
///   The group's blocks exchange each step's h: within the block (cluster 1), by distributed
///   shared memory (a thread-block cluster; cluster 2-8), or, when grid_sync, through the output
///   sequence in global memory and a grid-wide barrier (cluster > 8, cooperative launch, every
///   block of the grid resident at once).
///   Shared memory: those weights, h of the rows twice ([2][rows][persistent_hpad()], double
///   buffered, zero padded) and c of the rows' units ([rows][units]).
struct PersistentGeometry {
  unsigned grid_x = 0, block_x = 0;
  int rows = 0;
  int cluster = 1;
  bool grid_sync = false;
  int units = 0;
  int slices = 0;
  int kpt = 0;
  int reg_kpt = 0;
  PersistentWeights weights = PersistentWeights::F32;  ///< how shared-memory weights are held
  std::size_t shared_bytes = 0;
};

/// Length of one row of an h buffer: every lane reads k = s + slices * i for i < kpt (registers:
/// reg_kpt), so the buffer is padded with zeros to slices * that.
inline constexpr int persistent_hpad(const PersistentGeometry& g) {
  return g.slices * (g.reg_kpt > 0 ? g.reg_kpt : g.kpt);
}

/// Dynamic shared memory of a launch with this plan, bytes.
inline std::size_t persistent_shared_bytes(const PersistentGeometry& g, int gates) {
  const int words = g.weights == PersistentWeights::F32 ? g.kpt : (g.kpt + 1) / 2;  // per gate and thread
  const std::size_t w = g.reg_kpt > 0 ? 0
                                      : static_cast<std::size_t>(words) * static_cast<std::size_t>(gates) *
                                            static_cast<std::size_t>(g.block_x);
  const std::size_t h = 2 * static_cast<std::size_t>(g.rows) * static_cast<std::size_t>(persistent_hpad(g));
  return (w + h + static_cast<std::size_t>(g.rows) * static_cast<std::size_t>(g.units)) * sizeof(float);
}

/// Pins parts of the plan (tests and benchmarks; 0 / false: the plan's own choice).
struct PersistentOverride {
  int cluster = 0;              ///< blocks per batch slice: 1, 2-8 (a cluster), more (grid-wide)
  int slices = 0;               ///< lanes per unit: 1, 2, 4, 8, 16 or 32
  bool shared_weights = false;  ///< weights in shared memory even where registers would do
  bool half_weights = false;    ///< weights in shared memory as 16-bit pairs (needs an exact format)
};

/// The plan for a call with `batch` rows, or nothing when W_hh does not fit on chip even split
/// over every SM. Choice, in order:
///   rows: 1 when batch <= SMs (one block per row keeps each step's latency lowest), else 8;
///   cluster: the smallest group that holds the weights, trying the units split over 1, 2, 4, 8,
///     ... blocks; the group is the ceil(H / units) blocks that own units (2-8: a cluster, only
///     with clusters; more: a grid-wide barrier, only while the grid has at most one block per SM);
///   mode: registers when rows is 1 and a reg_kpt fits the register budget, else fp32 in shared
///     memory, else (only when `exact` is F16 or BF16) 16-bit pairs in shared memory: half the
///     bytes, so 16 bits let a group of fewer blocks hold W_hh (LSTM up to H 168 in one block);
///   slices: among those that fit (1024 threads at most), the one of least estimated step cost
///     gates * (rows * kpt + 4 * shuffles): one FMA per gate, row and k, and the shuffles of the
///     kernel's reduction (a warp shuffle issues at a quarter of the FMA rate); the larger slices
///     on a tie.
/// `force` pins cluster, slices or mode; nothing is returned when the pinned plan does not fit.
/// `exact`: a 16-bit format every W_hh value is exact in (persistent_exact_weights()), or F32.
inline std::optional<PersistentGeometry> persistent_plan(PersistentCell cell, int hidden, int batch,
                                                         const PersistentDevice& dev,
                                                         const PersistentOverride& force = {},
                                                         PersistentWeights exact = PersistentWeights::F32) {
  // Beyond 2^20 units W_hh alone is terabytes; the bound keeps the int arithmetic below exact.
  if (hidden < 1 || batch < 1 || hidden > (1 << 20)) return std::nullopt;
  const int gates = persistent_gates(cell);
  const int rows = batch <= dev.sm_count ? 1 : kPersistentWideRows;
  const int slices_of_batch = (batch + rows - 1) / rows;
  for (int split = 1; split <= 2 * hidden; split *= 2) {
    // Split the units over `split` blocks; the group is the blocks that own at least one unit
    // (ceil(H / units) <= split: H 465 over 16 blocks of 30 units needs 16, over 32 of 15 needs 31).
    const int units = (hidden + split - 1) / split;
    const int cluster = (hidden + units - 1) / units;
    const bool grid_sync = cluster > kPersistentMaxCluster;
    if (grid_sync && cluster * slices_of_batch > dev.sm_count) break;  // one block per SM at most
    if (cluster > 1 && !(grid_sync ? dev.grid_sync : dev.clusters)) continue;
    if (force.cluster > 0 && cluster != force.cluster) continue;
    for (int mode = 0; mode < 3; ++mode) {  // 0: registers, 1: fp32 shared memory, 2: 16-bit pairs
      if (mode == 0 && (rows != 1 || force.shared_weights || force.half_weights)) continue;
      if (mode == 1 && force.half_weights) continue;
      if (mode == 2 && exact == PersistentWeights::F32) continue;
      std::optional<PersistentGeometry> best;
      int best_cost = 0;
      for (int slices = 32; slices >= 1; slices /= 2) {
        const int threads = (units * slices + 31) / 32 * 32;
        if (threads > 1024 || slices < rows || (force.slices > 0 && slices != force.slices)) continue;
        const int kpt = (hidden + slices - 1) / slices;
        int reg_kpt = 0;
        if (mode == 0) {
          for (int k : kPersistentRegKpt)
            if (k >= kpt) {
              reg_kpt = k;
              break;
            }
          if (reg_kpt == 0 || threads > persistent_max_threads(gates, reg_kpt, rows)) continue;
        } else if (threads > persistent_max_threads(gates, 0, rows)) {
          continue;
        }
        PersistentGeometry g;
        g.block_x = static_cast<unsigned>(threads);
        g.grid_x = static_cast<unsigned>(cluster * slices_of_batch);
        g.rows = rows;
        g.cluster = cluster;
        g.grid_sync = grid_sync;
        g.units = units;
        g.slices = slices;
        g.kpt = kpt;
        g.reg_kpt = reg_kpt;
        g.weights = mode == 2 ? exact : PersistentWeights::F32;
        g.shared_bytes = persistent_shared_bytes(g, gates);
        if (g.shared_bytes > dev.max_shared_bytes) continue;
        int shuffles = 0;  // per gate, as the kernel's reduction runs them
        for (int off = slices / 2, held = rows; off >= 1; off /= 2) {
          held = held > 1 ? held / 2 : held;
          shuffles += held;
        }
        const int cost = gates * (rows * (reg_kpt > 0 ? reg_kpt : kpt) + 4 * shuffles);
        if (!best || cost < best_cost) {
          best = g;
          best_cost = cost;
        }
      }
      if (best) return best;
    }
  }
  return std::nullopt;
}

/// Throws ShapeError naming the argument when `a` breaks the contract above, or when W_hh does
/// not fit on chip on `dev` (persistent_plan() finds no plan); returns the plan.
inline PersistentGeometry check_persistent_rnn_args(const PersistentRnnArgs& a, const PersistentDevice& dev) {
  if (a.seq_len < 1 || a.batch < 1 || a.hidden < 1)
    throw ShapeError("persistent_rnn: seq_len, batch and hidden must be >= 1 (got " + std::to_string(a.seq_len) + ", " +
                     std::to_string(a.batch) + ", " + std::to_string(a.hidden) + ")");
  if (!a.w_hh_t || !a.out) throw ShapeError("persistent_rnn: w_hh_t and out must not be null");
  if (a.ld_out < a.hidden || (a.h0 && a.ld_h0 < a.hidden))
    throw ShapeError("persistent_rnn: row strides must be >= hidden size " + std::to_string(a.hidden));
  const std::optional<PersistentGeometry> plan = persistent_plan(a.cell, a.hidden, a.batch, dev, {}, a.exact_weights);
  if (!plan)
    throw ShapeError(
        "persistent_rnn: hidden size " + std::to_string(a.hidden) + " does not fit on chip: W_hh needs " +
        std::to_string((a.exact_weights == PersistentWeights::F32 ? 4 : 2) * static_cast<std::size_t>(a.hidden) *
                       static_cast<std::size_t>(a.hidden) * static_cast<std::size_t>(persistent_gates(a.cell))) +
        " bytes; the device allows " + std::to_string(dev.max_shared_bytes) + " bytes of shared memory per block" +
        (dev.clusters ? ", in clusters of up to 8 blocks" : " and has no thread-block clusters") +
        (dev.grid_sync ? ", or split over at most one block per SM (" + std::to_string(dev.sm_count) + ")" : ""));
  return *plan;
}

/// Whether the persistent kernel code the current device runs was compiled with its cluster path:
/// false where the driver JIT-compiles the compute_75 PTX (a device newer than the build's
/// sm_90 binary), whose kernel has no distributed-shared-memory exchange. Throws CudaError.
bool persistent_clusters();

/// How many groups of plan `geo` the current device can hold at once: clusters
/// (cudaOccupancyMaxActiveClusters) when 1 < geo.cluster <= 8, else blocks (blocks per SM x
/// dev.sm_count); 0 when the plan cannot run there at all. Throws CudaError when a query fails.
int persistent_resident_groups(PersistentCell cell, const PersistentGeometry& geo, const PersistentDevice& dev);

/// Launches the whole recurrence on `stream` (current device); asynchronous. Throws ShapeError
/// before launching (check_persistent_rnn_args), CudaError when the launch fails.
void persistent_rnn(const PersistentRnnArgs& args, const PersistentDevice& dev, CUstream_st* stream);

}  // namespace rnnad::cuda
