// What `rnnad detect` writes: the per-row CSV and the events JSON (docs/cli.md, "Outputs").
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "evaluation.h"
#include "rnnad/detector.h"
#include "rnnad/series.h"

namespace rnnad::cli {

/// Output column names of the series' value columns: the input's names, prefixed "input_" when
/// a name is one of the output's own columns (score, threshold, is_anomaly, filled) or a
/// timestamp name (timestamp, time, date, datetime), so `rnnad eval` finds its columns
/// unambiguously.
std::vector<std::string> value_column_names(const Series& series);

/// Writes the per-row CSV: header `[timestamp,]<value columns>,score,threshold,is_anomaly,filled`,
/// then one line per row of the prepared series in its order: timestamp as YYYY-MM-DD HH:MM:SS,
/// values (float, shortest round trip), score and threshold (float64, shortest round trip),
/// is_anomaly 0/1, filled = how many of the row's values the input policy filled (0 = all read
/// from the file; `filled`: PrepareReport::filled, rows of the prepared series). A row without a
/// score has empty score, threshold and is_anomaly; a scored row that was not judged
/// (calibration) has an empty threshold and is_anomaly 0.
void write_rows_csv(std::FILE* out, const Series& series, const DetectionResult& result,
                    std::span<const FilledCell> filled);

/// The run described for the events JSON.
struct RunInfo {
  std::string input, model, device;
  std::string threshold;  ///< the threshold account of the summary (method, parameters, origins)
  std::vector<std::string> notes;  ///< input-policy notes and diagnostics
};

/// The events JSON: {"input", "model", "device", "rows", "scored_rows", "flagged_rows",
/// "threshold": {"method", "description", "calibration_rows", "initial"}, "features": [...],
/// "events": [{"start_row", "end_row", "start_line", "end_line", "start_time", "end_time",
/// "rows", "flagged_rows", "peak_row", "peak_time", "peak_score", "mean_score",
/// "why": "value 100%", "top_features": [{"feature", "column", "share", "contribution"}]}],
/// "diagnostics": [...], "metrics": {...} (with labels)}. Rows are 0-based rows of the per-row
/// CSV; lines are 1-based lines of the input file; times are present with timestamps.
nlohmann::ordered_json events_json(const Series& series, const DetectionResult& result, const ThresholdSettings& settings,
                                   const RunInfo& info, const RowLabels* labels, const Evaluation* evaluation);

/// "m5 45%, m12 30%, m1 10%": an event's top features and their shares of its contributions.
std::string event_why(const Event& event, const Series& series, const DetectionResult& result);

}  // namespace rnnad::cli
