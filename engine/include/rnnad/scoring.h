// Anomaly scores from model outputs: normalisation, errors per kind, scoring methods, pooling
// of overlapping windows and per-feature contributions (docs/scoring.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "rnnad/engine.h"
#include "rnnad/model.h"
#include "rnnad/score_math.h"

namespace rnnad {

namespace detail {
class WindowScorer;
}

/// One score per input row and its per-feature contributions. NaN marks "no score" (no window or
/// prediction covers the row): such rows keep their place, they are never dropped or shifted.
struct SeriesScores {
  int64_t rows = 0;
  std::vector<double> scores;          ///< [rows]
  int64_t features = 0;                ///< F': scored features (input_size, or the targets)
  std::vector<int64_t> feature_index;  ///< [F']: input column of each contribution column
  std::vector<double> contributions;   ///< [rows, F'] row-major; each row sums to its score
};

/// How much a model's outputs move compared with its inputs, for field case F29 (a constant
/// reconstruction, a forecaster echoing its last input): all in normalised units, per scored
/// feature f' (feature_index order). Accumulated by Scorer over every window it runs.
struct OutputSpread {
  int64_t windows = 0;               ///< windows (reconstruction, windowed prediction) or predictions (stateful) run
  std::vector<RunningStats> output;  ///< [F'] the model's outputs: reconstructed values at every step of
                                     ///< every window, or the one-step-ahead predicted means
  std::vector<RunningStats> input;   ///< [F'] the input values those outputs are compared with
  /// Prediction kind only (count 0 otherwise): |prediction(r+1) − x(r)|, the distance of each
  /// one-step-ahead forecast from the last input it saw, and |x(r+1) − x(r)|, the series' own step.
  RunningStats echo, step;
  /// Adds another spread of the same model (e.g. of another segment).
  void merge(const OutputSpread& other);
};

/// Applies a model's normalisation (docs/scoring.md §1) to raw rows: raw [rows, F] -> x [rows, F],
/// float64, x = (raw - center) / scale with the stored statistics (never refitted, never clipped).
/// Throws FormatError naming the row and column of a NaN or infinite raw value.
std::vector<double> normalize_rows(const NormalizationConfig& norm, const double* raw, int64_t rows, int64_t features);

/// Scores a whole series with a model's `scoring` settings. Builds its own Engine (on `device`,
/// windows batched `batch` at a time). Memory: the engine's buffers, the normalised series as
/// float [rows, F] (not when scoring on the GPU) and the results [rows] + [rows, F'] (the rows
/// are streamed through the model: overlapping windows are pooled in place and a forecaster keeps
/// only its last `horizon` predictions), i.e. O(rows × F), independent of seq_len and horizon;
/// on the GPU, plus the device scoring buffers of one batch (set_device_scoring). Not thread-safe.
class Scorer {
 public:
  /// Called after each batch of windows with the rows of the current call that are done.
  using Progress = std::function<void(int64_t rows_done)>;

  /// Throws UnsupportedError when the model has no window/prediction to score (kind rnn) or the
  /// scoring method does not fit the kind (e.g. gaussian_nll on a point forecaster), ShapeError
  /// for batch < 1; what Engine's constructor throws for `device`.
  explicit Scorer(std::shared_ptr<const Model> model, int64_t batch = 64, Device device = Device::Cpu);
  /// The same with the engine's device, device_index, threads and CUDA settings taken from
  /// `engine` (its max_batch and max_seq_len are set here: `batch` windows of the model's seq_len;
  /// a stateful forecaster steps one series at batch 1, so threads do not apply to it).
  Scorer(std::shared_ptr<const Model> model, int64_t batch, EngineOptions engine);
  ~Scorer();

  /// raw: [rows, input_size] row-major in the CSV's units. Throws ShapeError when the series is
  /// shorter than one window (F10), FormatError for non-finite values (naming row and column),
  /// Error when a model output is not finite (naming the row).
  SeriesScores score(const double* raw, int64_t rows);
  /// Same for float rows (a Series' values), with no float64 copy of the input.
  SeriesScores score(const float* raw, int64_t rows);
  /// Same, written into the caller's buffers: scores [rows], contributions [rows, features()]
  /// (row-major); both are overwritten (NaN where there is no score). Throws ShapeError for
  /// buffers of the wrong size, and what score() throws.
  void score_into(const float* raw, int64_t rows, std::span<double> scores, std::span<double> contributions);

  /// F': the number of contribution columns (input_size, or the forecaster's targets).
  int64_t features() const { return static_cast<int64_t>(m_feature_index.size()); }
  /// [F']: the input column of each contribution column.
  const std::vector<int64_t>& feature_index() const { return m_feature_index; }
  /// The spread of the model's outputs over every call since construction (F29 diagnostics).
  const OutputSpread& output_spread() const { return m_spread; }
  /// On a CUDA engine, reconstruction, attention and windowed prediction models are scored on the
  /// GPU by default (docs/scoring.md §8): only the finished rows' scores and contributions come
  /// back, not the model's outputs. Not for stride > seq_len, or when the scoring buffers (for a
  /// reconstruction about batch·seq_len·F·8·(2 or 4, mahalanobis) bytes plus a ring of
  /// batch·stride + seq_len rows) cannot be allocated on the device: those are scored on the host.
  /// false scores on the host from the downloaded outputs instead (for diagnosis and tests; the
  /// scores and contributions are the same bits, gaussian_nll's within float64 rounding). No
  /// effect on the CPU or for stateful forecasters.
  void set_device_scoring(bool on) { m_device_scoring = on; }
  /// Whether score() scores on the GPU (a CUDA engine, a model with windows, and
  /// set_device_scoring not turned off).
  bool device_scoring() const { return m_window_scorer && m_device_scoring; }
  /// Sets (or clears, with an empty function) the progress callback of later calls.
  void set_progress(Progress progress) { m_progress = std::move(progress); }

  const Model& model() const { return *m_model; }
  Engine& engine() { return *m_engine; }

 private:
  // Raw = double or float (the caller's rows); instantiated in scoring.cpp only.
  template <class Raw>
  void score_impl(const Raw* raw, int64_t rows, double* scores, double* contributions);
  template <class Raw>
  void score_windows_reconstruction(const Raw* raw, const float* xf, int64_t rows, double* scores,
                                    double* contributions);
  template <class Raw>
  void score_prediction(const Raw* raw, const float* xf, int64_t rows, double* scores, double* contributions);
  void report(int64_t rows_done) const {
    if (m_progress) m_progress(rows_done);
  }

  std::shared_ptr<const Model> m_model;
  std::unique_ptr<Engine> m_engine;
  std::unique_ptr<detail::WindowScorer> m_window_scorer;  // after m_engine: destroyed first
  bool m_device_scoring = true;
  std::vector<double> m_span_rows;  // device scoring: one batch's normalised rows [span, F]
  int64_t m_batch;
  std::vector<int64_t> m_feature_index;
  OutputSpread m_spread;
  Progress m_progress;
};

}  // namespace rnnad
