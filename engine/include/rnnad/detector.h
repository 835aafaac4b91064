// Detection over a whole prepared series: scores per usable segment (Scorer), one threshold
// method over all scored rows (threshold_apply.h), events with their top contributing features
// (events.h) and the F29 output diagnostics. What `rnnad detect` runs (docs/cli.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "rnnad/device.h"
#include "rnnad/events.h"
#include "rnnad/model.h"
#include "rnnad/scoring.h"
#include "rnnad/series.h"
#include "rnnad/threshold_apply.h"

namespace rnnad {

/// Settings of a Detector.
struct DetectorOptions {
  Device device = Device::Cpu;
  int device_index = 0;         ///< CUDA ordinal (Device::Cuda / Auto)
  int64_t batch = 64;           ///< windows per engine call
  int threads = 1;              ///< CPU threads per engine call (EngineOptions::threads; 0 = all)
  ThresholdSettings threshold;  ///< method and parameters, resolved (threshold_settings())
  EventOptions events;          ///< how flagged rows become events
};

/// Everything a detection computed, one entry per row of the prepared series.
struct DetectionResult {
  int64_t rows = 0;
  std::vector<int64_t> feature_index;  ///< [F'] input column of each contribution column
  std::vector<double> scores;          ///< [rows]; NaN = no score (warm-up, skipped segments)
  std::vector<double> contributions;   ///< [rows, F'] row-major; NaN where there is no score
  int64_t scored_rows = 0;             ///< rows with a score
  RowThresholds threshold;             ///< per-row thresholds and flags, calibration
  std::vector<Event> events;           ///< in row order (rows of the prepared series)
  std::vector<std::string> diagnostics;  ///< F29 findings (diagnose_output_spread), one line each
  /// F' = columns of `contributions`.
  int64_t features() const { return static_cast<int64_t>(feature_index.size()); }
};

/// Runs a model over prepared series. Holds one Scorer (and so one Engine); not thread-safe.
class Detector {
 public:
  /// Called during scoring with the rows scored so far and the rows to score in all.
  using Progress = std::function<void(int64_t rows_done, int64_t rows_total)>;

  /// Throws what Scorer's constructor throws (a model without scores, a device that cannot run it).
  Detector(std::shared_ptr<const Model> model, DetectorOptions options);
  ~Detector();

  /// Scores each of `segments` (rows [begin, end) of `series`, e.g. ModelFit::usable: no window
  /// crosses a segment edge; a stateful model starts each from a zero state), applies the threshold
  /// to all scored rows in order, groups flags into events (with series.timestamps when present)
  /// and diagnoses the model's outputs. `series` must be prepared (no NaN) and have the model's
  /// input_size features. Memory: O(rows × (F + F')). Throws ShapeError (features, a segment outside
  /// the series or shorter than the model needs), and what Scorer::score_into and apply_threshold throw.
  DetectionResult run(const Series& series, std::span<const SeriesSegment> segments, const Progress& progress = {});

  const DetectorOptions& options() const { return m_options; }
  /// The engine that runs the model (its device(), backend_name() and notice()).
  Engine& engine() { return m_scorer.engine(); }

 private:
  std::shared_ptr<const Model> m_model;
  DetectorOptions m_options;
  Scorer m_scorer;
};

}  // namespace rnnad
