// A multivariate time series as read from a file, the input policy that cleans it (missing
// values, duplicate and out-of-order timestamps, gaps), and the check that it fits a model's
// window. The policy and every case it handles: docs/input.md.
//
// Layout: `values` is [rows, features] row-major float; `timestamps` are int64 seconds since
// 1970-01-01 00:00:00 of the file's own clock (rnnad/labels.h), or absent; rows are 0-based.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rnnad/model.h"

namespace rnnad {

/// A series of `rows` rows of `features()` values, with where each row came from.
/// Memory per row: 4·F bytes of values + 8 (timestamp, when present) + 8 (source line, when present).
struct Series {
  std::string source;                   ///< file name (or other origin) that starts every message
  std::vector<std::string> columns;     ///< [F] value column names, in feature order
  std::vector<int64_t> column_numbers;  ///< [F] 1-based source column of each feature, or empty
  std::string timestamp_column;         ///< name of the timestamp column ("" when none)
  int64_t timestamp_column_number = 0;  ///< its 1-based source column (0 when none)
  /// [rows] seconds since the epoch, or empty: then the series has no time and rows are indices.
  std::vector<int64_t> timestamps;
  /// [rows, F] row-major. NaN marks a missing cell (prepare_series rejects or fills it); values
  /// are float (what the model consumes; docs/input.md "Values").
  std::vector<float> values;
  std::vector<int64_t> lines;  ///< [rows] 1-based source line of each row, or empty (series built in code)

  /// F = number of value columns.
  int64_t features() const { return static_cast<int64_t>(columns.size()); }
  /// Number of rows (values.size() / F; 0 when there are no columns).
  int64_t rows() const;
  bool has_timestamps() const { return !timestamps.empty(); }
  /// Value of row `row`, feature `feature` (no bounds check).
  float value(int64_t row, int64_t feature) const {
    return values[static_cast<std::size_t>(row * features() + feature)];
  }
  /// "<source>:<line>" for a row, or "<source>: row <row>" without lines; the prefix of messages.
  std::string where(int64_t row) const;
  /// "<source>:<line>:<column number>: column '<name>'" for a cell (column number and line as
  /// known); the prefix of messages about one cell.
  std::string where(int64_t row, int64_t feature) const;
  /// Throws ShapeError naming the source when the sizes disagree: values not [rows, F],
  /// timestamps / lines neither empty nor [rows], column_numbers neither empty nor [F], or F == 0.
  void check_shape() const;
};

/// What to do with missing cells (NaN in Series::values: empty or NaN cells of a CSV).
enum class MissingPolicy {
  Error,        ///< default: FormatError naming the first missing cell and the count of all
  Interpolate,  ///< linear in row position inside each segment; segment ends take the nearest value
  ForwardFill,  ///< the previous value in the segment; leading cells take the segment's first value
};

/// What to do when timestamps do not increase from row to row.
enum class OrderPolicy {
  Error,   ///< default: FormatError at the first row whose timestamp is below the previous row's
  Sort,    ///< stable sort by timestamp (rows with equal timestamps keep file order)
  Ignore,  ///< keep file order; timestamps are labels only: no order, duplicate or gap checks
};

/// What to do with rows whose timestamp equals the previous row's (after sorting, if sorting).
enum class DuplicatePolicy {
  Error,      ///< default: FormatError naming both lines
  KeepFirst,  ///< keep the first row of each run of equal timestamps, drop the others
  KeepLast,   ///< keep the last row of each run, drop the others
};

/// How prepare_series cleans a series. The defaults reject everything that is not clean.
struct InputPolicy {
  MissingPolicy missing = MissingPolicy::Error;
  OrderPolicy order = OrderPolicy::Error;
  DuplicatePolicy duplicates = DuplicatePolicy::Error;  ///< no effect with OrderPolicy::Ignore
  /// A step between consecutive timestamps larger than gap_factor × the median step is a gap.
  /// Must be > 1. Default 3: one or two missing samples are not a gap, three are.
  double gap_factor = 3.0;
  /// false (default): gaps split the series into segments and no window spans a gap.
  /// true: gaps are still reported, but the series is one segment.
  bool bridge_gaps = false;
};

/// Names used on the command line and in messages: "error", "interpolate", "ffill";
/// "error", "sort", "ignore"; "error", "keep-first", "keep-last".
const char* policy_name(MissingPolicy policy);
const char* policy_name(OrderPolicy policy);
const char* policy_name(DuplicatePolicy policy);
/// Inverse of policy_name; throws Error "unknown <what> '<text>' (expected a, b, c)".
MissingPolicy parse_missing_policy(std::string_view text);
OrderPolicy parse_order_policy(std::string_view text);
DuplicatePolicy parse_duplicate_policy(std::string_view text);

/// Rows [begin, end) of a prepared series that no window may leave.
struct SeriesSegment {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t rows() const { return end - begin; }
  friend bool operator==(const SeriesSegment&, const SeriesSegment&) = default;
};

/// A missing cell that prepare_series filled; row is the row after preparation.
struct FilledCell {
  int64_t row = 0;
  int64_t feature = 0;
  int64_t line = 0;  ///< source line (0 when the series has no lines)
  friend bool operator==(const FilledCell&, const FilledCell&) = default;
};

/// A row dropped because its timestamp repeats; `kept_line` is the line of the row kept instead.
struct DroppedRow {
  int64_t line = 0;
  int64_t kept_line = 0;
  int64_t timestamp = 0;  ///< seconds
  friend bool operator==(const DroppedRow&, const DroppedRow&) = default;
};

/// A step between consecutive rows larger than gap_factor × the median step.
struct TimeGap {
  int64_t row = 0;  ///< first row after the gap (prepared rows): a segment starts here unless bridged
  int64_t line_before = 0, line_after = 0;  ///< source lines of the rows on either side
  int64_t time_before = 0, time_after = 0;  ///< seconds
  int64_t step() const { return time_after - time_before; }
};

/// What prepare_series did. Row indices refer to the prepared series.
struct PrepareReport {
  std::vector<FilledCell> filled;        ///< filled cells, by row then feature
  std::vector<DroppedRow> dropped;       ///< rows dropped as duplicate timestamps, in prepared order
  std::vector<int64_t> reordered_lines;  ///< OrderPolicy::Sort: lines whose timestamp is below an earlier line's
  int64_t median_step = 0;               ///< seconds; 0 without timestamps, with Ignore, or under 2 rows
  std::vector<TimeGap> gaps;             ///< in time order
  std::vector<SeriesSegment> segments;   ///< cover all rows in order; one segment unless gaps split it
  /// One line per finding, starting with the source (e.g. "a.csv: gap of 3 days 22:30 between
  /// lines 4 and 5 (median step 5m); windows do not cross it"); empty when the series was clean.
  std::vector<std::string> notes;
};

/// Cleans `series` in place according to `policy`, in this order: (1) timestamps (sort, then
/// duplicates, then the order check), (2) gaps and segments, (3) missing values, filled inside
/// each segment. Without timestamps, (1) and (2) do nothing and the series is one segment.
/// Throws ShapeError (check_shape, no rows), Error (gap_factor <= 1 or not finite), FormatError
/// "<source>:<line>:<column>: ..." for an infinite value, a duplicate or decreasing timestamp
/// (policy Error), a missing cell (policy Error: the first one and the count of all), or a
/// column with no value at all in a segment (nothing to fill from).
PrepareReport prepare_series(Series& series, const InputPolicy& policy = {});

/// "a, b, c": names joined for messages ("" for none).
std::string join_names(const std::vector<std::string>& names);

/// "5m", "90s", "2h30m", "3 days 22:30", "1 day 00:00:05": a duration in seconds (>= 0) for messages.
std::string format_duration(int64_t seconds);

/// Rows a series (or segment) needs before a model can score any row: the window T
/// (reconstruction, attention), T + 1 for a windowed forecaster (T + horizon with lstm_ad), 2 for
/// a stateful forecaster (horizon + 1 with lstm_ad), 1 for kind rnn (docs/scoring.md §6).
int64_t rows_needed(const ModelConfig& config);

/// Which segments of a prepared series a model can score.
struct ModelFit {
  int64_t rows_needed = 0;             ///< rows_needed(config)
  std::vector<SeriesSegment> usable;   ///< segments with at least rows_needed rows
  std::vector<SeriesSegment> skipped;  ///< shorter segments: no window is run on them
  std::vector<std::string> notes;      ///< one line per skipped segment; column-name mismatch
};

/// Checks a prepared series against a model. Throws ShapeError
/// "<source>: the series has 3 value columns (a, b, c), the model's input_size is 2 (features x, y)"
/// when F differs, and, when no segment has rows_needed rows,
/// "<source>: series has 7 rows, the model's window needs 10" (one segment; forecasters: "the model
/// needs 11 (a window of 10 and 1 row to predict)") or "<source>: no segment can hold a window: ..."
/// naming the longest segment and the segment count. Shorter segments are skipped with a note.
/// Column names that differ from the model's `normalization.features` give a note, not an error.
ModelFit check_model_fit(const Series& series, const PrepareReport& report, const ModelConfig& config);

}  // namespace rnnad
