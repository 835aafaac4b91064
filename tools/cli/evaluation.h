// Labels mapped onto the rows of a detection, and the metrics `rnnad detect --labels` and
// `rnnad eval` print (one code path for both; docs/cli.md "Metrics", docs/evaluation.md).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "rnnad/labels.h"
#include "rnnad/metrics.h"
#include "rnnad/nab_score.h"

namespace rnnad::cli {

/// Labels, one per row of the evaluated series.
struct RowLabels {
  std::string description;        ///< e.g. "4 NAB windows of realKnownCause/x.csv (labels.json)"
  std::vector<uint8_t> labels;    ///< [rows] 1 = anomalous
  std::vector<RowRange> segments;  ///< the labelled segments (NAB windows as rows, or label runs)
  bool nab = false;               ///< segments are NAB windows: the NAB score applies
  std::vector<std::string> notes;  ///< NAB windows skipped or clipped to the series' span (window_span.h)
};

/// Reads labels for a series of `rows` rows:
/// - a `.json` file is NAB's combined_windows.json (or a subset of it): the key is `key` when
///   given, else the only key, else the key whose file name equals `series_file`'s; windows map
///   onto `timestamps` [rows] (nab_windows_to_rows), which must be given; windows outside the
///   series' time span are skipped and windows reaching beyond it clipped, with `notes`;
/// - anything else is a 0/1 file with one line per data row of the input file (`input_rows` of
///   them): row r of the series takes line `file_row[r]` when `file_row` is given ([rows]: the
///   input row each series row came from, after the input policy sorted or dropped rows), else
///   line r.
/// Throws IoError, FormatError naming the file and the line / key / window, Error when the key is
/// ambiguous (listing the keys) or the row counts differ.
RowLabels load_labels(const std::filesystem::path& path, const std::string& key, const std::filesystem::path& series_file,
                      int64_t rows, std::span<const int64_t> timestamps, int64_t input_rows,
                      std::span<const int64_t> file_row);

/// Metrics of flags (and scores, for the oracle) against labels.
struct Evaluation {
  int64_t flagged = 0;
  Prf point;                      ///< point-wise
  RandomBaseline point_random;    ///< F1 of random scores flagging as many rows
  Prf adjusted;                   ///< point-adjusted (PA)
  RandomBaseline adjusted_random;  ///< PA-F1 of random scores flagging as many rows
  Prf events;                     ///< event-wise (event_prf over the runs of flagged rows)
  int64_t event_count = 0;        ///< runs of flagged rows
  BestF1 oracle;                  ///< best F1 over thresholds, on the scores rounded to float
  std::optional<std::array<NabProfileScore, 3>> nab;  ///< NAB windows only: the three profiles
};

/// Evaluates `flags` [rows] (and `scores` [rows], NaN = no score) against `labels`. The oracle
/// uses the scores rounded to float32, the precision `rnnad eval` reads them back with, so both
/// print the same numbers. Throws ShapeError when sizes differ.
Evaluation evaluate(std::span<const double> scores, std::span<const uint8_t> flags, const RowLabels& labels);

/// Prints the metric lines of the summary (labels, point, adjusted, events, NAB, oracle).
void print_evaluation(std::ostream& out, const RowLabels& labels, const Evaluation& e);

}  // namespace rnnad::cli
