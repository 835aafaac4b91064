// Label readers for the evaluation datasets (NAB windows and points, SMD/ASD 0/1 labels and
// interpretation labels), strict timestamp parsing, label runs, and the HitRate@P% interpretation
// metric. Formats: ../shared/data/README.md; metric definitions: docs/evaluation.md.
//
// Timestamps in rnnad are int64 seconds since 1970-01-01 00:00:00 of the file's own clock (no
// time zone is applied: NAB timestamps carry none). Row indices are 0-based.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rnnad {

/// A range of rows, both ends inclusive: rows first, first+1, ..., last (first <= last).
struct RowRange {
  int64_t first = 0;
  int64_t last = 0;
  int64_t length() const { return last - first + 1; }
  bool contains(int64_t row) const { return row >= first && row <= last; }
  friend bool operator==(const RowRange&, const RowRange&) = default;
};

/// Maximal runs of nonzero entries of `labels` ([rows], 0 = normal, nonzero = anomalous), in
/// order. A "segment" in the evaluation metrics is one such run.
std::vector<RowRange> label_runs(std::span<const uint8_t> labels);

// ---- Timestamps -------------------------------------------------------------------------------

/// Parses `YYYY-MM-DD HH:MM:SS`, optionally followed by `.` and 1 to 6 digits that must all be
/// `0` (NAB writes `.000000`; rnnad timestamps are whole seconds). Exactly that shape: 4-digit
/// year 1000..9999, 2-digit fields, a real calendar date (leap years), hours 00..23, minutes and
/// seconds 00..59, no surrounding spaces. Returns seconds since 1970-01-01 00:00:00 (negative
/// before 1970). Throws FormatError "<where>: bad timestamp '<text>': <reason>".
int64_t parse_timestamp(std::string_view text, const std::string& where);

/// Writes `seconds` (since 1970-01-01 00:00:00) as `YYYY-MM-DD HH:MM:SS`; the inverse of
/// parse_timestamp for years 1000..9999. Throws Error outside that range.
std::string format_timestamp(int64_t seconds);

/// Reads the timestamp column of a NAB CSV (header exactly `timestamp,value`, then one
/// `<timestamp>,<anything>` line per row; `\r\n` line ends accepted). Only the timestamps are
/// parsed (parse_timestamp); values are the CSV reader's business. Returns [rows] seconds.
/// Throws IoError (cannot read), FormatError "<file>:<line>: ..." (bad header, missing comma,
/// bad timestamp, no rows).
std::vector<int64_t> read_nab_timestamps(const std::filesystem::path& csv_path);

// ---- NAB labels (numenta/NAB labels/combined_windows.json, combined_labels.json) -------------

/// One NAB anomaly window as written in combined_windows.json: both ends inclusive.
struct TimeWindow {
  int64_t start = 0;         ///< seconds (parse_timestamp)
  int64_t end = 0;           ///< seconds, >= start
  std::string start_text{};  ///< the file's text, for messages
  std::string end_text{};
};

/// Reads NAB's combined_windows.json: an object `"folder/file.csv" -> [[start, end], ...]`,
/// timestamps `"YYYY-MM-DD HH:MM:SS.ffffff"`. Keys are returned as written. Throws IoError,
/// FormatError naming the file, the key and the window index for invalid JSON, duplicate keys,
/// a value that is not a list of 2-string lists, a bad timestamp, start > end, or windows that
/// are not in increasing, non-overlapping order.
std::map<std::string, std::vector<TimeWindow>> read_nab_windows(const std::filesystem::path& json_path);

/// Reads NAB's combined_labels.json: an object `"folder/file.csv" -> ["YYYY-MM-DD HH:MM:SS", ...]`
/// (the labelled anomaly points). Returns seconds per key. Throws IoError, FormatError naming
/// the file, key and entry.
std::map<std::string, std::vector<int64_t>> read_nab_points(const std::filesystem::path& json_path);

/// Maps NAB windows to row ranges of one file whose row timestamps are `timestamps` ([rows],
/// seconds). Matching is by exact timestamp equality, as NAB's Sweeper enters and leaves windows:
/// a window's first row is the first row, after the previous window's last row, whose timestamp
/// equals `start`; its last row is the first row at or after that whose timestamp equals `end`
/// (so duplicated timestamps, as in machine_temperature_system_failure.csv, resolve to their
/// first occurrence in scan order). Throws FormatError "<file_key>: window <i> [<start>,
/// <end>]: start|end timestamp '<text>' is not in the series".
std::vector<RowRange> nab_windows_to_rows(std::span<const TimeWindow> windows, std::span<const int64_t> timestamps,
                                          const std::string& file_key);

// ---- SMD / ASD labels ------------------------------------------------------------------------

/// Reads a 0/1-per-row label file (SMD `test_label/*.txt`, ASD `test_label/*.txt`): one line
/// per row holding exactly `0` or `1` (`\r\n` accepted; the last line may lack its newline).
/// Returns [rows] of 0/1. Throws IoError, FormatError "<file>:<line>: expected 0 or 1, got
/// '<text>'" (empty lines included) or "<file>: no rows".
std::vector<uint8_t> read_binary_labels(const std::filesystem::path& path);

/// Whether the `end` of an interpretation-label line is the last anomalous row (inclusive, ASD)
/// or one past it (exclusive, SMD). See ../shared/data/README.md.
enum class SegmentEnd { Exclusive, Inclusive };

/// One interpretation-label line: the anomalous rows and the metrics marked as causing them.
struct InterpretationSegment {
  RowRange rows{};                  ///< inclusive, after applying the SegmentEnd convention
  std::vector<int64_t> features{};  ///< 0-based feature indices (the file's 1-based numbers − 1), file order
};

/// Reads interpretation labels (OmniAnomaly / InterFusion `interpretation_label/*.txt`): lines
/// `start-end:m1,m2,...` with 0-based row indices and 1-based metric numbers, decimal digits only,
/// no spaces. `end` follows `end_convention` (SMD: Exclusive, ASD: Inclusive); the result is
/// inclusive. Empty lines are errors, except the end of the file. Throws IoError, FormatError
/// "<file>:<line>: ..." naming the bad value (non-digit, overflow, empty segment, metric 0,
/// duplicate metric).
std::vector<InterpretationSegment> read_interpretation_labels(const std::filesystem::path& path,
                                                              SegmentEnd end_convention);

// ---- HitRate@P% --------------------------------------------------------------------------------

/// Result of interpretation_hit_rate.
struct HitRate {
  double hit_rate = 0.0;  ///< mean of per_segment over evaluated segments; 0 if none
  int64_t segments_evaluated = 0;
  int64_t segments_skipped = 0;       ///< no usable row (no detection, or contributions not finite)
  std::vector<double> per_segment{};  ///< [segments]; entries of skipped segments are 0
  std::vector<uint8_t> evaluated{};   ///< [segments]; 1 where per_segment is meaningful
};

/// HitRate@P% (Su et al., OmniAnomaly, KDD 2019 §5.5; the get_hit_rate of zhhlee/InterFusion
/// algorithm/cal_IPS.py). For each segment S with labelled features L (|L| >= 1):
///   c_f    = Σ_{rows t of S used} contributions[t, f]     (higher = more anomalous)
///   rank features by c_f descending (ties: lower feature index first)
///   n      = min(⌊P/100 · |L|⌋, features)
///   hit(S) = |top-n features ∩ L| / |L|
/// and the result is the unweighted mean of hit(S) over evaluated segments. Rows used: rows of
/// S whose contributions are all finite and, when `detected` is not empty, that are detected
/// (nonzero) — InterFusion scores only detected (true-positive) rows. InterFusion weights each
/// segment by its number of detected rows and aggregates by the per-feature minimum
/// log-probability; rnnad sums contributions and weights segments equally (docs/evaluation.md).
/// `contributions`: [rows, features] row-major; `detected`: [rows] or empty; `p_percent` > 0
/// (100 and 150 are the published settings). Throws ShapeError (sizes) and Error (a segment
/// outside the rows, a feature index >= features, empty feature list, p_percent <= 0).
HitRate interpretation_hit_rate(std::span<const double> contributions, int64_t features,
                                std::span<const InterpretationSegment> segments, double p_percent,
                                std::span<const uint8_t> detected = {});

}  // namespace rnnad
