// Anomaly scores from model outputs: normalisation, errors per kind, scoring methods, pooling
// of overlapping windows and per-feature contributions (docs/scoring.md).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "rnnad/engine.h"
#include "rnnad/model.h"

namespace rnnad {

/// One score per input row and its per-feature contributions. NaN marks "no score" (no window or
/// prediction covers the row): such rows keep their place, they are never dropped or shifted.
struct SeriesScores {
  int64_t rows = 0;
  std::vector<double> scores;                ///< [rows]
  int64_t features = 0;                      ///< F': scored features (input_size, or the targets)
  std::vector<int64_t> feature_index;        ///< [F']: input column of each contribution column
  std::vector<double> contributions;         ///< [rows, F'] row-major; each row sums to its score
};

/// Applies a model's normalisation (docs/scoring.md §1) to raw rows: raw [rows, F] -> x [rows, F],
/// float64, x = (raw - center) / scale with the stored statistics (never refitted, never clipped).
/// Throws FormatError naming the row and column of a NaN or infinite raw value.
std::vector<double> normalize_rows(const NormalizationConfig& norm, const double* raw, int64_t rows, int64_t features);

/// Scores a whole series with a model's `scoring` settings. Builds its own Engine (on `device`,
/// windows batched `batch` at a time); memory is O(rows x F') plus the engine's buffers. Not thread-safe.
class Scorer {
 public:
  /// Throws UnsupportedError when the model has no window/prediction to score (kind rnn) or the
  /// scoring method does not fit the kind (e.g. gaussian_nll on a point forecaster), ShapeError
  /// for batch < 1; what Engine's constructor throws for `device`.
  explicit Scorer(std::shared_ptr<const Model> model, int64_t batch = 64, Device device = Device::Cpu);
  ~Scorer();

  /// raw: [rows, input_size] row-major in the CSV's units. Throws ShapeError when the series is
  /// shorter than one window (F10), FormatError for non-finite values.
  SeriesScores score(const double* raw, int64_t rows);

  const Model& model() const { return *m_model; }
  Engine& engine() { return *m_engine; }

 private:
  void score_windows_reconstruction(const std::vector<double>& x, const std::vector<float>& xf, int64_t rows,
                                    SeriesScores& out);
  void score_prediction(const std::vector<double>& x, const std::vector<float>& xf, int64_t rows, SeriesScores& out);

  std::shared_ptr<const Model> m_model;
  std::unique_ptr<Engine> m_engine;
  int64_t m_batch;
};

}  // namespace rnnad
