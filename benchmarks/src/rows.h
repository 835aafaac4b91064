// Benchmark rows: the shapes of shared/docs/performance.md §2.6 (suite "cpu") and §6.1-6.3 (suite
// "gpu"), and tiny correctness-only rows (suite "quick"). A row names a model, a mode and a batch;
// workload.h makes it concrete. New rows are added to the tables in rows.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rnnad/cell_type.h"

namespace rnnad::bench {

/// What one timed call does (docs/benchmarks.md, "Modes").
enum class Mode {
  Forward,      ///< kind rnn: Engine::forward of [T, B, I] from a zero state: every h_t, h_n and c_n
  Step,         ///< kind rnn: one step (T = 1) from the state the previous call left (streaming)
  Windows,      ///< kind prediction (windowed, point, one target): B consecutive windows of a series
                ///< at stride 1 through Engine::run_windows, a head of `horizon` outputs per window
  Reconstruct,  ///< kind reconstruction (EncDec-AD, reverse decoding): Engine::reconstruct of [T, B, I]
};

/// "forward", "step", "windows" or "reconstruct".
const char* mode_name(Mode mode);

/// One benchmark row: the model (cell, sizes; weights are seeded at run time) and one call's shape.
struct Row {
  std::string id;     ///< e.g. "AD1", "AD6-b256", "cliff-lstm-h128-b64"; unique within its suite
  std::string suite;  ///< "cpu", "gpu" or "quick"
  std::string what;   ///< one line for the tables (model and shape)
  Mode mode = Mode::Forward;
  CellType cell = CellType::Lstm;
  int64_t input = 1;    ///< I
  int64_t hidden = 1;   ///< H (encoder and decoder share it)
  int64_t layers = 1;   ///< L (encoder and decoder each)
  int64_t seq_len = 1;  ///< T of one call; the window length for Windows and Reconstruct; 1 for Step
  int64_t batch = 1;    ///< B: sequences, windows or streams per call
  int64_t horizon = 0;  ///< Windows: outputs of the linear head per window
  bool bf16 = false;    ///< weights rounded to bfloat16 (a model stored as BF16): rnnad may hold W_hh as
                        ///< 16-bit pairs on chip; every backend computes in fp32 on the same values
};

/// Rows of suite "cpu", "gpu" or "quick", in run order. Throws UsageError for another name.
std::vector<Row> suite_rows(const std::string& suite);

/// The rows whose id, or id before its first '-', is listed in `ids` (comma-separated; empty keeps
/// all). Throws UsageError naming an id that matches no row.
std::vector<Row> filter_rows(const std::vector<Row>& rows, const std::string& ids);

}  // namespace rnnad::bench
