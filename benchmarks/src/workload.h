// A benchmark row made concrete: the model with seeded random weights, the inputs of one call,
// the outputs it writes and its arithmetic. Every backend runs the same Workload.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rnnad/model.h"
#include "rows.h"

namespace rnnad::bench {

/// One output tensor of a call: [A, B, F] row-major with the batch on axis 1. `per_step` outputs
/// have one entry per time step on axis 0 (a check may compare their first steps only).
struct OutputSpec {
  std::string name;
  std::array<int64_t, 3> shape{0, 0, 0};
  bool per_step = false;
};

/// The model, inputs and output shapes of one row (host memory, fp32, time-major).
struct Workload {
  Row row;
  std::shared_ptr<const Model> model;
  RnnConfig stack;           ///< the recurrent stack: the model (rnn), rnn. (prediction) or encoder. (reconstruction)
  RnnConfig decoder;         ///< Reconstruct only: the decoder (prefix decoder.)
  int64_t T = 0, B = 0, I = 0;
  int64_t P = 0;             ///< Windows: head outputs per window
  int64_t stride = 1;        ///< Windows: series rows between window starts
  int64_t series_rows = 0;   ///< Windows: rows of `input`
  std::vector<float> input;  ///< [T, B, I]; Windows: the series [series_rows, I]
  std::vector<float> h0, c0; ///< Step: state before the first call, [L, B, H] (c0: LSTM only)
  std::vector<OutputSpec> outputs;
  double flop = 0;           ///< 2 x multiply-adds of one call (products only; element-wise work not counted)
};

/// Builds `row`'s model (weights uniform in ±1/sqrt(H), PyTorch's range; seeded) and inputs
/// (N(0, 1); Step state N(0, 0.5²)). Throws rnnad::Error if the model is invalid.
Workload make_workload(const Row& row, std::uint32_t seed = 1);

/// The same model on batch columns `columns` of `w` (ascending, < w.B) and, for Mode::Forward,
/// its first `steps` time steps (1 <= steps <= w.T); Windows keeps the selected windows (stride T).
Workload subset(const Workload& w, const std::vector<int64_t>& columns, int64_t steps);

/// Elements of an output: shape[0] * shape[1] * shape[2].
std::size_t elements(const OutputSpec& spec);

}  // namespace rnnad::bench
