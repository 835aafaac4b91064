// TiledRecurrence: the CPU path's fused kernel for batched, unidirectional LSTM (without
// proj_size) and GRU stacks (internal; cpu::RnnStack runs it for those under Kernel::Auto).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "rnnad/cpu/team.h"
#include "rnnad/rnn_dims.h"

namespace rnnad::cpu::detail {

/// The batch is cut into tiles of at most kTileRows rows. A tile runs all layers over all steps
/// (layer l at step t right after layer l-1 at step t), with its h and c in tile-local buffers
/// that stay in L1/L2; nothing of size seq_len x batch x gates is ever written, and the input
/// projection is not hoisted: per layer and step one fused kernel computes a block of kMR rows x
/// kVW hidden units of every gate from [x_t | h_{t-1}] (K = input + hidden) in registers, against
/// weights packed once into one panel per kVW units ([K][gate][kVW], zero-padded past H), then
/// the gate non-linearities and the state update (PyTorch's equations, shared/docs/algorithms.md
/// §5.1; activations_avx512.h with AVX-512, else the activations.h functions of the Eigen path).
/// A batch under one row block (6 rows with AVX-512) would stream the weights once per step and
/// row: there the input projections are hoisted, a chunk of steps at a time, into one product
/// over chunk x batch rows, and each step multiplies only h_{t-1} by the recurrent part.
/// A row's arithmetic (bias, input part, recurrent part, k ascending) is the same in both modes
/// and does not depend on its tile, the batch size or the thread count: its outputs are the
/// same bits at batch 1 and inside any batch.
/// Not thread-safe: one forward() at a time per object.
class TiledRecurrence {
 public:
  /// Rows per tile: a multiple of the kernel's row block, small enough that a tile's states of a
  /// few layers stay in L2 while each weight panel is reused by every row block.
  static constexpr int64_t kTileRows = 48;
  /// Bytes of hoisted input projections held at a time (batches under one row block).
  static constexpr int64_t kHoistChunkBytes = int64_t{256} << 10;
  /// Recurrent weights (bytes per layer) from which a batch under one row block is split over
  /// the team's threads by hidden units: below it, a barrier per step costs more than it saves;
  /// and recurrent weights streamed per call (steps x layers x bytes) below which the hand-off to
  /// the threads costs more than the split saves (a few decoder steps, a streaming step of H 256).
  static constexpr int64_t kSplitMinBytes = int64_t{256} << 10;
  static constexpr int64_t kSplitMinCallBytes = int64_t{2} << 20;

  /// True for LSTM without proj_size and GRU, unidirectional, any num_layers.
  static bool supports(const RnnDims& dims);

  /// `params[layer]` in PyTorch's layout (rnn_dims.h); copied and packed here. `team` (may be
  /// null; must outlive this object) lends threads: a batch under one row block of a layer with
  /// at least kSplitMinBytes of recurrent weights, in a call that streams at least
  /// kSplitMinCallBytes of them, is split by hidden units; any other batch into contiguous shares
  /// of rows, one per thread. Precondition: supports(dims), max_batch >= 1.
  TiledRecurrence(const RnnDims& dims, const std::vector<RnnParams>& params, int64_t max_batch, Team* team);

  /// Same tensors and layouts as RnnStack::forward (time-major [seq_len, batch, ...], states
  /// [num_layers, batch, H]; h0/c0 null = zeros; c_n null = not written). Allocates nothing.
  void forward(int64_t seq_len, int64_t batch, const float* x, const float* h0, const float* c0, float* output,
               float* h_n, float* c_n);

  /// Bytes held: packed weights plus tile state.
  int64_t workspace_bytes() const;

 private:
  using Buffer = std::vector<float, Eigen::aligned_allocator<float>>;
  // What one thread's share of a call works in: h and c of a tile for every layer (h[2l + (t & 1)]
  // after step t, ping-pong; c[l], LSTM; each [kTileRows, H_p]), and for shares under kMR rows the
  // hoisted projections gx [m_chunk x rows, m_ld_gx], the gathered input x [m_chunk x rows, I] and
  // a chunk's output of layer l for layer l + 1, seq[l & 1] [m_chunk x rows, H_p].
  struct PartState {
    std::vector<Buffer> h, c;
    Buffer gx, x, seq[2];
  };
  template <class Cell>
  void run(int64_t seq_len, int64_t batch, const float* x, const float* h0, const float* c0, float* output,
           float* h_n, float* c_n);
  template <class Cell>
  void run_tile(PartState& ps, int64_t seq_len, int64_t batch, int64_t b0, int64_t rows, const float* x,
                const float* h0, const float* c0, float* output, float* h_n, float* c_n);
  template <class Cell>
  void run_hoisted(PartState& ps, int64_t seq_len, int64_t batch, int64_t b0, int64_t rows, const float* x,
                   bool zero_state, float* output, int part, int parts);
  template <class Cell>
  void project(PartState& ps, int64_t layer, int64_t rows, const float* in, int64_t ld_in, int64_t pa, int64_t pb);
  template <class Cell>
  void step_layer(int64_t layer, int64_t rows, const float* in, int64_t ld_in, const float* h_prev, bool zero_state,
                  float* h_next, float* c, float* out, const float* gx, int64_t pa, int64_t pb);
  void load_state(PartState& ps, int64_t batch, int64_t b0, int64_t rows, const float* h0, const float* c0);
  void store_state(const PartState& ps, int64_t seq_len, int64_t batch, int64_t b0, int64_t rows, float* h_n,
                   float* c_n);

  RnnDims m_dims;
  int64_t m_hp = 0;                 // H rounded up to the packet width: stride of tile states
  int64_t m_ld_gx = 0;              // floats per row of hoisted projections: H_p x 4 accumulators
  int64_t m_chunk = 1;              // steps per hoisted chunk
  std::vector<Buffer> m_panels;     // per layer: [H_p / kVW][K_l x groups x kVW]
  std::vector<Buffer> m_bias;       // per layer: [H_p / kVW][accumulators x kVW]
  std::vector<PartState> m_parts;   // one per thread the team can lend (1 without a team)
  Team* m_team = nullptr;
  int64_t m_recurrent_bytes = 0;    // packed recurrent weights of one layer
  SpinBarrier m_barrier;
};

}  // namespace rnnad::cpu::detail
