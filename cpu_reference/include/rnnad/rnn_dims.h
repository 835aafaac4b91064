// Sizes and weights of a PyTorch recurrent stack (nn.RNN / nn.LSTM / nn.GRU), shared by the CPU
// path (cpu::RnnStack) and the CUDA backend (cuda::RnnStack).
#pragma once

#include <cstdint>

#include "rnnad/cell_type.h"

namespace rnnad {

/// Sizes of a recurrent stack, PyTorch names (H = hidden_size, H_out = proj_size or H, D = 1 or 2).
struct RnnDims {
  CellType cell = CellType::Lstm;
  int64_t input_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 1;
  int64_t proj_size = 0;
  bool bidirectional = false;

  int64_t num_directions() const { return bidirectional ? 2 : 1; }
  /// G = 4H (LSTM), 3H (GRU) or H (RNN).
  int64_t gate_size() const {
    return cell == CellType::Lstm ? 4 * hidden_size : cell == CellType::Gru ? 3 * hidden_size : hidden_size;
  }
  int64_t output_size() const { return proj_size > 0 ? proj_size : hidden_size; }
  int64_t layer_input_size(int64_t layer) const {
    return layer == 0 ? input_size : num_directions() * output_size();
  }
};

/// Weights of one layer and direction, in PyTorch's layout (row-major):
/// weight_ih [G, layer_input], weight_hh [G, H_out], bias_ih/bias_hh [G] (null when bias=False),
/// weight_hr [proj_size, H] (LSTM with proj_size only, else null). Gate row blocks in PyTorch
/// order (LSTM i, f, g, o; GRU r, z, n). Only read while a stack is constructed, which
/// copies them into its own layout.
struct RnnParams {
  const float* weight_ih = nullptr;
  const float* weight_hh = nullptr;
  const float* bias_ih = nullptr;
  const float* bias_hh = nullptr;
  const float* weight_hr = nullptr;
};

}  // namespace rnnad
