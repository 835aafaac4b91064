// The reconstruction decoder's feedback loop in one launch (performance.md §3.6). At inference an
// EncDec-AD decoder is fed its own previous reconstruction, x_t = W_out h_{t-1} + b_out, so
//   gates = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh = (W_hh + W_ih W_out) h_{t-1} + (b_ih + W_ih b_out) + b_hh:
// an autonomous recurrence with a folded recurrent matrix, which the persistent kernel runs with no
// input (gx = null) for all steps; the reconstructions W_out h_t + b_out are then one GEMM over
// all steps, off the recurrence's critical path. Exact in real arithmetic; the rounding differs
// from the step-by-step decoder (the fold is computed in double and rounded once).
// One unidirectional layer (LSTM, GRU or nn.RNN). A GRU's candidate gate applies the reset gate to
// the recurrent part only, so its input part W_in W_out h stays a separate column block: the
// folded GRU has four blocks [r, z, n_h, n_x] (PersistentCell::GruFolded). Plain C++17, no CUDA.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "rnnad/cuda/context.h"
#include "rnnad/cuda/persistent_rnn.h"
#include "rnnad/cuda/rnn_stack.h"
#include "rnnad/rnn_dims.h"

namespace rnnad::cuda {

/// Folded weights in the persistent kernel's layouts: w_hh_t [H, G'] (transposed), b_ih [G'],
/// b_hh [G'] (zeros where the layer has no bias). LSTM / RNN: G' = G, w = W_hh + W_ih W_out,
/// b_ih' = b_ih + W_ih b_out, b_hh' = b_hh. GRU: G' = 4H, blocks [r, z, n_h, n_x]:
/// r, z as above; n_h = W_hn with b_hh's n block (and no input part); n_x = W_in W_out with
/// b_in + W_in b_out (and no b_hh part).
struct FoldedFeedback {
  std::vector<float> w_hh_t, b_ih, b_hh;
};

/// Folds the feedback x_t = W_out h_{t-1} + b_out into a decoder layer of `cell` (weight_ih
/// [G, I], weight_hh [G, H], bias_ih / bias_hh [G] or null, w_out [I, H], b_out [I] or null,
/// PyTorch layouts, row-major). Sums in double, rounds once to float.
inline FoldedFeedback fold_feedback(CellType cell, int64_t H, int64_t I, const RnnParams& p, const float* w_out,
                                    const float* b_out) {
  const auto sz = [](int64_t n) { return static_cast<std::size_t>(n); };
  const bool gru = cell == CellType::Gru;
  const int64_t G = cell == CellType::Lstm || gru ? 4 * H : H;  // folded column count
  FoldedFeedback f;
  f.w_hh_t.assign(sz(H * G), 0.0f);
  f.b_ih.assign(sz(G), 0.0f);
  f.b_hh.assign(sz(G), 0.0f);
  for (int64_t g = 0; g < G; ++g) {
    // Source rows of weight_ih / weight_hh for folded column g (-1: none).
    int64_t ih = g, hh = g;
    if (gru && g >= 2 * H) {
      ih = g >= 3 * H ? g - H : -1;  // n_x: W_in's rows; n_h: no input part
      hh = g >= 3 * H ? -1 : g;      // n_h: W_hn's rows; n_x: no recurrent part
    }
    for (int64_t k = 0; k < H; ++k) {
      double w = hh >= 0 ? double(p.weight_hh[hh * H + k]) : 0.0;
      if (ih >= 0)
        for (int64_t i = 0; i < I; ++i) w += double(p.weight_ih[ih * I + i]) * double(w_out[i * H + k]);
      f.w_hh_t[sz(k * G + g)] = static_cast<float>(w);
    }
    if (ih >= 0) {
      double b = p.bias_ih ? p.bias_ih[ih] : 0.0;
      if (b_out)
        for (int64_t i = 0; i < I; ++i) b += double(p.weight_ih[ih * I + i]) * double(b_out[i]);
      f.b_ih[sz(g)] = static_cast<float>(b);
    }
    if (hh >= 0 && p.bias_hh) f.b_hh[sz(g)] = p.bias_hh[hh];
  }
  return f;
}

/// The persistent kernel's cell for a folded decoder of `cell`.
inline PersistentCell folded_cell(CellType cell) {
  return cell == CellType::Gru ? PersistentCell::GruFolded : persistent_cell(cell);
}

/// True when a decoder of these dimensions can be folded: one unidirectional layer without
/// projections.
inline bool feedback_foldable(const RnnDims& dims) {
  return dims.num_layers == 1 && !dims.bidirectional && dims.proj_size == 0;
}

/// A folded decoder resident on the context's device, for batch <= max_batch and up to
/// max_steps steps; run() allocates nothing and only queues work on ctx.stream().
class FeedbackDecoder {
 public:
  /// dims/params: the decoder (feedback_foldable(dims) must hold, else std::invalid_argument);
  /// w_out [I, H], b_out [I] or null: the output head (host memory). Throws CudaError when
  /// device memory runs out.
  FeedbackDecoder(const Context& ctx, const RnnDims& dims, const RnnParams& params, const float* w_out,
                  const float* b_out, int64_t max_batch, int64_t max_steps, Strategy strategy);

  /// Whether run() may be used for `steps` steps of `batch` rows: 1 <= batch <= max_batch,
  /// 1 <= steps <= max_steps, and the strategy allows the persistent kernel (Auto: a plan that
  /// fits one wave, and steps >= 2; Persistent: any plan; Step, Gemm: never).
  bool eligible(int64_t batch, int64_t steps) const;

  /// Runs `steps` decoder steps from state h0 [B, H] (and c [B, H] for an LSTM: the initial cell
  /// state, overwritten with the final one), each fed the previous step's reconstruction, and
  /// leaves h of every step in outputs() [steps, B, H]: in step order, or reversed (step s at
  /// row steps - 1 - s) when `reverse`. Device pointers. Preconditions: eligible(B, steps).
  void run(int64_t steps, int64_t B, const float* h0, float* c, bool reverse);

  /// Device [max_steps, max_batch, H]; the first steps * B rows hold the last run's h.
  const float* outputs() const { return m_out.data(); }

 private:
  const Context& m_ctx;
  RnnDims m_dims;
  Strategy m_strategy;
  PersistentDevice m_device;
  int64_t m_max_batch, m_max_steps;
  mutable OneWaveCache m_wave;
  DeviceBuffer m_w_hh_t, m_b_ih, m_b_hh, m_out;
};

}  // namespace rnnad::cuda
