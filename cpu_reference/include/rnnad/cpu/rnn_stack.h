// Eigen implementation of PyTorch's nn.RNN / nn.LSTM (with proj_size) / nn.GRU forward pass:
// any num_layers, bidirectional, optional initial states. It is both the CPU backend and the
// correctness reference for the CUDA kernels. Equations: shared/docs/algorithms.md §5.1
// (PyTorch torch/nn/modules/rnn.py docstrings); GRU applies the reset gate AFTER the recurrent
// product and its bias: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "rnnad/cpu/gemm.h"
#include "rnnad/cpu/team.h"
#include "rnnad/rnn_dims.h"

namespace rnnad::cpu {

namespace detail {
class TiledRecurrence;
}

using rnnad::RnnDims;
using rnnad::RnnParams;

/// A recurrent stack with its workspace, sized at construction for batch <= max_batch and
/// seq_len <= max_seq_len; forward() then allocates nothing. Two kernels:
/// - Eigen (the reference, every configuration): one GEMM per layer and direction computes the
///   input projections of a chunk of time steps (all steps unless chunk x batch x G floats would
///   exceed kProjectionChunkBytes), then each step does one recurrent product and one fused
///   element-wise pass (gates, state update). Batch 1 is a GEMV per step.
/// - Tiled (src/tiled_recurrence.h; unidirectional LSTM without proj_size and GRU): batch tiles
///   run all layers and steps in cache with a register-blocked fused gate kernel on weights
///   packed at construction, so no projection buffer of seq_len x batch x G is materialised.
/// Kernel::Auto runs Tiled for every batch where it applies (at batch 1 both kernels are bound by
/// streaming the weights from L2 and run level; the Eigen kernel's weights and buffers are then
/// not built), Eigen otherwise.
/// Not thread-safe: one forward() at a time per object.
class RnnStack {
 public:
  static constexpr int64_t kProjectionChunkBytes = int64_t{8} << 20;
  enum class Kernel { Auto, Eigen };

  /// `params[layer * D + direction]`, num_layers * D entries. Throws std::invalid_argument when
  /// the count is wrong or a required pointer is null (the engine validates shapes first).
  /// Kernel::Eigen forces the reference kernel for every batch (tests compare against it).
  /// `team` (may be null; must outlive the stack) lends threads to the tiled kernel's small
  /// batches of large layers, split by hidden units (tiled_recurrence.h).
  RnnStack(const RnnDims& dims, std::vector<RnnParams> params, int64_t max_batch, int64_t max_seq_len,
           Kernel kernel = Kernel::Auto, Team* team = nullptr);
  ~RnnStack();
  RnnStack(RnnStack&&) noexcept;
  RnnStack& operator=(RnnStack&&) noexcept;

  /// x: [seq_len, batch, input_size]; h0: [L*D, batch, H_out] or null (zeros); c0: [L*D, batch, H]
  /// or null (zeros, LSTM only); output: [seq_len, batch, D*H_out]; h_n: [L*D, batch, H_out];
  /// c_n: [L*D, batch, H] (LSTM only; null to skip). All time-major, contiguous, row-major.
  /// State index = layer * D + direction (PyTorch's h_n order). Preconditions (checked by the
  /// engine, not here): 1 <= seq_len <= max_seq_len, 1 <= batch <= max_batch, finite inputs.
  void forward(int64_t seq_len, int64_t batch, const float* x, const float* h0, const float* c0, float* output,
               float* h_n, float* c_n);

  const RnnDims& dims() const { return m_dims; }
  int64_t max_batch() const { return m_max_batch; }
  int64_t max_seq_len() const { return m_max_seq_len; }
  /// Bytes of workspace held, both kernels (for reporting).
  int64_t workspace_bytes() const;
  /// True when forward() runs the tiled kernel.
  bool tiled() const { return m_tiled != nullptr; }
  /// True when a stack of these dims built with `kernel` runs the tiled kernel.
  static bool uses_tiled(const RnnDims& dims, Kernel kernel);

 private:
  void run_direction(int64_t layer, int64_t dir, int64_t seq_len, int64_t batch, const float* in, float* out,
                     const float* h0, const float* c0, float* h_n, float* c_n);
  void step_cell(int64_t batch, float* gx, const float* h_prev, int64_t ld_prev, float* c, float* h_out,
                 int64_t ld_out, int64_t pd);

  // Weights re-laid out once: transposes of weight_ih [I_l, G], weight_hh [H_out, G],
  // weight_hr [H, P], so every product is C += A * Bt (see gemm.h).
  struct Weights {
    std::vector<float> ih_t, hh_t, hr_t;
  };

  RnnDims m_dims;
  std::vector<RnnParams> m_params;  // emptied after construction
  std::vector<Weights> m_weights;   // per layer * D + direction
  int64_t m_max_batch, m_max_seq_len, m_chunk_steps;
  std::vector<std::vector<float>> m_bias_x;  // per layer*D+dir: b_ih (+ b_hh except GRU), [G]
  std::vector<std::vector<float>> m_bias_h;  // GRU: b_hh, [G]
  std::vector<GemmPlan> m_gemm_ih;           // per layer: [chunk*B, G] += in [.., I_l] W_ih^T
  GemmPlan m_gemm_hh;                        // [B, G] += h [B, H_out] W_hh^T
  std::vector<GemmPlan> m_gemm_hr;           // LSTM proj: [B, P] += m [B, H] W_hr^T (0 or 1 entries)
  std::vector<float> m_gx, m_gh, m_c, m_m, m_zeros, m_layer_buf[2];
  std::unique_ptr<detail::TiledRecurrence> m_tiled;  // null: the Eigen kernel
};

}  // namespace rnnad::cpu
