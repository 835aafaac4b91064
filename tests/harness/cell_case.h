// Test support shared by the CPU-harness tests (tests/harness) and the GPU tests (tests/gpu):
// drives a fused cell step kernel over a sequence and compares it with the Eigen path
// (cpu::RnnStack, one layer), with canary guard regions around every buffer the kernel sees.
// The kernel is reached only through a StepRunner, so the same driver serves the harness and a
// real device.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "rnnad/cell_type.h"

namespace rnnad::test {

/// Floats with kGuard canary floats before and after the payload (style.md §2.10). The whole
/// storage is one exact-size heap allocation, so ASan also sees reads past the guards.
class GuardedBuffer {
 public:
  static constexpr std::size_t kGuard = 32;

  GuardedBuffer() : GuardedBuffer(0) {}
  explicit GuardedBuffer(std::size_t n, float fill = 0.0f);

  float* data() { return m_storage.data() + kGuard; }
  const float* data() const { return m_storage.data() + kGuard; }
  std::size_t size() const { return m_size; }
  /// Guards + payload + guards (what a GPU runner uploads and downloads whole).
  std::vector<float>& storage() { return m_storage; }

  /// The canary: a signalling NaN with a recognisable payload. Reading it poisons results;
  /// anything computed from it is a quiet NaN, so it cannot restore a damaged guard.
  static float canary();
  static bool is_canary(float v);
  /// Empty when both guards are intact, else "<name>: guard element k after the end overwritten".
  std::string guard_damage(const std::string& name) const;

 private:
  std::size_t m_size;
  std::vector<float> m_storage;
};

/// One comparison case: a single-layer LSTM, GRU or RNN of `hidden` units on `input` features.
struct CellCase {
  CellType cell = CellType::Lstm;
  int batch = 1;
  int hidden = 1;
  int input = 3;
  int seq_len = 1;
  std::uint32_t seed = 1;
  bool bias = true;
  int row_pad = 0;             ///< h rows of stride hidden + row_pad (pad columns hold canaries)
  float weight_scale = 0.4f;   ///< weights and b_hh uniform in (-scale, scale)
  float bias_ih_scale = 0.0f;  ///< b_ih uniform in (-scale, scale); 0: weight_scale
  float input_scale = 1.0f;    ///< x, h0, c0 uniform in (-scale, scale)
};

/// The grid of issue 9 run by both the harness and the GPU test: LSTM, GRU, RNN tanh and RNN
/// relu x hidden
/// {1, 33, 80} x batch {1, 5} x seq_len {1, 17}, each with its own seed.
std::vector<CellCase> issue_grid();

/// "lstm H=33 B=5 T=17 seed=1" and the non-default options.
std::string describe(const CellCase& c);

/// Weights in PyTorch's layouts and inputs, drawn deterministically from the case's seed.
struct CellData {
  std::vector<float> weight_ih;  ///< [G, I]
  std::vector<float> weight_hh;  ///< [G, H]
  std::vector<float> bias_ih;    ///< [G] (empty without bias)
  std::vector<float> bias_hh;    ///< [G]
  std::vector<float> x;          ///< [T, B, I]
  std::vector<float> h0;         ///< [B, H]
  std::vector<float> c0;         ///< [B, H] (LSTM)
};
CellData make_cell_data(const CellCase& c);

/// A sequence's outputs: output [T, B, H], h_n [B, H], c_n [B, H] (LSTM only; empty for GRU).
struct SequenceResult {
  std::vector<float> output, h_n, c_n;
  std::string damage;  ///< guard or pad-column damage seen after any step; empty when none
};

/// The Eigen path (cpu::RnnStack with one layer, Kernel::Eigen) on the case.
SequenceResult reference_sequence(const CellCase& c, const CellData& d);

/// What one step's kernel sees (host memory; a GPU runner mirrors it on the device):
/// gx [B, G] = x_t W_ih^T without bias; w_hh_t [H, G] (transposed weight_hh); b_ih, b_hh [G]
/// (size 0: no bias -> pass null); h_prev, h_out [B, ld]; c [B, H] (LSTM, updated in place).
struct StepBuffers {
  int batch = 0, hidden = 0, ld = 0;
  bool bias = true;
  GuardedBuffer gx, w_hh_t, b_ih, b_hh, h_prev, h_out, c;
};

/// Runs one step: reads gx, h_prev, c; writes h_out and c. `step` is the time index.
using StepRunner = std::function<void(StepBuffers& io, int step)>;

/// Drives `run` over the case's sequence (h ping-pongs between h_prev and h_out) and collects
/// the outputs. Checks every buffer's guards and h_out's pad columns after each step.
SequenceResult run_sequence(const CellCase& c, const CellData& d, const StepRunner& run);

/// design.md §7: every value finite and |got - ref| <= 1e-5 * max(1, |ref|). Empty when it
/// holds, else one line naming `what`, the worst element's index, both values and the share of
/// the tolerance used.
std::string compare(const std::vector<float>& got, const std::vector<float>& ref, const std::string& what);

}  // namespace rnnad::test
