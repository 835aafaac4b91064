// PyTorch's nn.RNN / nn.LSTM / nn.GRU forward on a CUDA device: per layer and direction, one cuBLAS GEMM
// for the input projections of a chunk of time steps, then the fused cell kernel once per step
// (kernels/lstm_cell.cuh, gru_cell.cuh, rnn_cell.cuh). Same contract as cpu::RnnStack, with device pointers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "rnnad/cuda/context.h"
#include "rnnad/cuda/persistent_rnn.h"
#include "rnnad/rnn_dims.h"

namespace rnnad::cuda {

/// Which kernels run a recurrence (docs/kernels.md, "Strategy table"). Step: one fused cell
/// launch per time step (any H, any batch). Persistent: one launch for all steps of a layer and
/// direction with W_hh on chip (registers or shared memory of one block, of a cluster of up to 8
/// blocks on sm_90, or of up to one block per SM). Gemm: per step, one cuBLAS GEMM for
/// h_prev W_hh^T and one element-wise gate launch (large batches). Auto: Persistent when W_hh
/// fits, the launch fills at most one wave of blocks and there is more than one step; else Gemm
/// when batch x G >= kGemmMinElements; else Step.
enum class Strategy { Auto, Step, Persistent, Gemm };

/// Auto runs a step as a GEMM from this many gate values per step (batch x G) on: a first guess
/// (about B 820 at LSTM H 80), not yet tuned on a GPU.
inline constexpr int64_t kGemmMinElements = int64_t{1} << 18;

/// Whether Auto runs a step of `batch` rows and G = gate_size columns as a GEMM.
inline bool gemm_step(int64_t batch, int64_t gate_size) { return batch * gate_size >= kGemmMinElements; }

/// "auto", "step", "persistent" or "gemm".
const char* strategy_name(Strategy s);

/// The device facts persistent_plan() needs: SMs, shared memory per block, clusters (sm_90+ and
/// kernel code built for it, persistent_clusters()), cooperative launches (the device attribute). Queries the
/// device (about a microsecond): call once per stack. Throws CudaError.
PersistentDevice persistent_device(const Context& ctx);

/// The persistent plan for `batch` rows of a `cell` layer of `hidden` units on `dev` (ctx's
/// device, persistent_device()), W_hh exact in `exact` (persistent_plan()), when one exists and
/// its launch fits one wave there: blocks <= SMs, and for clusters and grid-wide groups as many
/// resident at once as launched (persistent_resident_groups()); else nothing. Throws CudaError
/// when a query fails.
std::optional<PersistentGeometry> persistent_one_wave(const Context& ctx, const PersistentDevice& dev,
                                                      PersistentCell cell, int64_t hidden, int64_t batch,
                                                      PersistentWeights exact = PersistentWeights::F32);

/// persistent_one_wave()'s yes/no for the last batch size asked: the plan and, for clusters and
/// grid-wide groups, the occupancy queries run once per batch size in a row, not on every call.
/// Not thread-safe (like its owners, cuda::RnnStack and cuda::FeedbackDecoder).
class OneWaveCache {
 public:
  bool fits(const Context& ctx, const PersistentDevice& dev, PersistentCell cell, int64_t hidden, int64_t batch,
            PersistentWeights exact = PersistentWeights::F32) {
    if (batch != m_batch) {
      m_fits = persistent_one_wave(ctx, dev, cell, hidden, batch, exact).has_value();
      m_batch = batch;
    }
    return m_fits;
  }

 private:
  int64_t m_batch = 0;  // 0: nothing asked yet
  bool m_fits = false;
};

/// A recurrent stack resident on the context's device, with its workspace sized at construction
/// for batch <= max_batch and seq_len <= max_seq_len; forward() allocates nothing and only queues
/// work (no synchronisation): on ctx.stream(), and when layers overlap (pipelines()) also on one
/// stream per further layer, which ctx.stream() waits for before forward() returns. Not
/// thread-safe.
class RnnStack {
 public:
  /// Input projections are computed for chunks of at most kProjectionChunkBytes of gates.
  static constexpr int64_t kProjectionChunkBytes = int64_t{64} << 20;

  /// Copies the weights (params[layer * D + direction], PyTorch layouts) to the device. When every
  /// weight_hh value is exact in bfloat16 or binary16 (a model stored as BF16 / F16), the
  /// persistent kernel may hold W_hh in that format in shared memory (persistent_plan()).
  /// Throws UnsupportedError for what the CUDA backend does not run (LSTM proj_size > 0: use the
  /// CPU path) and for Strategy::Persistent when W_hh does not fit on chip (persistent_plan()),
  /// std::invalid_argument for a wrong params count, CudaError when device memory runs out.
  RnnStack(const Context& ctx, const RnnDims& dims, const std::vector<RnnParams>& params, int64_t max_batch,
           int64_t max_seq_len, Strategy strategy = Strategy::Auto);

  /// The strategy a call with `batch` rows and `seq_len` steps runs (Step, Persistent or Gemm); the
  /// persistent plan's one-wave answer is cached (OneWaveCache).
  Strategy strategy_for(int64_t batch, int64_t seq_len) const;

  /// Whether such a call overlaps its layers (docs/kernels.md §9, "Layer pipelining"): a
  /// unidirectional stack of 2 or more layers run by the persistent kernel, whose plan is not
  /// grid-wide and fits on the device once per layer at the same time, and more than one chunk of
  /// pipeline_chunk() steps. Layer l then runs chunk c while layer l + 1 runs chunk c − 1, each
  /// layer on its own stream: about (T + (L − 1)·chunk) steps in sequence instead of L·T. The
  /// environment variable RNNAD_CUDA_PIPELINE=0, read at construction, turns it off (for
  /// benchmarks). The occupancy query is cached per batch size. Throws CudaError.
  bool pipelines(int64_t batch, int64_t seq_len) const;

  /// Steps per chunk when layers overlap: ceil(sqrt(seq_len)), at most the projection chunk (each
  /// chunk costs a launch per layer; the last layer starts (L − 1) chunks late).
  int64_t pipeline_chunk(int64_t seq_len) const;

  /// Device pointers, shapes as cpu::RnnStack::forward(): x [T, B, I]; h0, c0 [L*D, B, H] or null
  /// (zeros); output [T, B, D*H]; h_n [L*D, B, H]; c_n [L*D, B, H] (LSTM; null to skip).
  /// h0/c0 may alias h_n/c_n only if they are not read after being written; pass distinct
  /// buffers. Preconditions checked by the engine: 1 <= T <= max_seq_len, 1 <= B <= max_batch.
  void forward(int64_t seq_len, int64_t batch, const float* x, const float* h0, const float* c0, float* output,
               float* h_n, float* c_n);

  const RnnDims& dims() const { return m_dims; }

 private:
  struct Layer {
    DeviceBuffer w_ih;    // [G, I_l] PyTorch layout (cuBLAS reads it transposed)
    DeviceBuffer w_hh_t;  // [H, G]: weight_hh transposed (the cell kernels' layout)
    DeviceBuffer w_hh;    // [G, H] PyTorch layout for the Gemm strategy (empty when it cannot run)
    DeviceBuffer b_ih, b_hh;
  };
  void run_direction(int64_t layer, int64_t dir, int64_t T, int64_t B, const float* in, float* out, const float* h0,
                     const float* c0, float* h_n, float* c_n);
  // The persistent launch of `steps` steps of layer/direction `w` (contract: PersistentRnnArgs).
  PersistentRnnArgs persistent_args(const Layer& w, const float* gx, const float* h0, int64_t ld_h0, float* c,
                                    float* out, int64_t ld_out, int64_t steps, int64_t B, bool reverse) const;
  // forward() with the layers overlapped in chunks (pipelines()).
  void forward_pipelined(int64_t T, int64_t B, const float* x, const float* h0, const float* c0, float* output,
                         float* h_n, float* c_n);

  const Context& m_ctx;
  RnnDims m_dims;
  int64_t m_max_batch, m_max_seq_len, m_chunk_steps;
  Strategy m_strategy;
  PersistentDevice m_device;  // persistent_device(m_ctx), queried once
  PersistentWeights m_exact;  // the 16-bit format every layer's W_hh is exact in, or F32
  mutable OneWaveCache m_wave;
  std::vector<Layer> m_layers;            // layer * D + direction
  DeviceBuffer m_gx, m_gh, m_c, m_zeros;  // m_gh [max_batch, G]: Gemm strategy only; m_c: per layer when pipelining
  std::vector<DeviceBuffer>
      m_layer_buf;                   // outputs of the inner layers: 2 alternating, or one per layer when pipelining
  bool m_pipeline = false;           // the stack's shape allows overlapping its layers
  int64_t m_pipe_chunk_max = 0;      // pipeline_chunk(max_seq_len)
  mutable int64_t m_pipe_batch = 0;  // the batch size m_pipe_fits answers (0: none yet)
  mutable bool m_pipe_fits = false;
  std::vector<std::unique_ptr<Context>> m_lanes;  // layers 1 .. L-1: their own streams (and cuBLAS handles)
  std::vector<Event> m_done;                      // per layer: the end of its last queued chunk
  Event m_start;                                  // the end of the work queued before a pipelined call
};

}  // namespace rnnad::cuda
