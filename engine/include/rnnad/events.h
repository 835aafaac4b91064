// Grouping flagged rows into anomaly events (docs/evaluation.md, "Events").
//
// An event is a run of flagged rows, optionally merged with nearby runs, with its score summary
// and the features that contributed most. Rows whose score is NaN ("no score", e.g. warm-up
// rows before the first full window) are never flagged and never part of an event: a flag on a
// NaN row is ignored, and runs are never merged across a NaN row.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace rnnad {

/// How runs of flagged rows become events.
struct EventOptions {
  /// Two runs separated by at most `merge_gap` unflagged rows (all with a score, i.e. not NaN)
  /// become one event that includes the gap rows. 0 (default) = no merging.
  int64_t merge_gap = 0;
  /// Events shorter than this many rows (start to end inclusive, after merging) are dropped.
  /// 1 (default) keeps every event; Telemanom keeps runs of >= 2 (algorithms.md §1.10).
  int64_t min_length = 1;
  /// How many contributing features to report per event (when contributions are given).
  int64_t top_k = 3;
};

/// Per-row inputs to find_events. Only `scores` and `flags` are required.
struct EventInputs {
  std::span<const double> scores{};         ///< [rows] anomaly scores; NaN = no score
  std::span<const uint8_t> flags{};         ///< [rows] nonzero = flagged by the threshold
  std::span<const int64_t> timestamps{};    ///< [rows] seconds (rnnad/labels.h), or empty
  std::span<const double> contributions{};  ///< [rows, features] row-major, or empty
  int64_t features = 0;                     ///< columns of `contributions` (0 when empty)
};

/// One feature's part of an event: the sum of its contributions over the event's rows and that
/// sum divided by the sum over all features (the shares of all features add up to 1; each lies
/// in [0, 1] when contributions are non-negative; all shares are 0 when the total is 0).
struct FeatureShare {
  int64_t feature = 0;  ///< 0-based column of the contribution matrix
  double sum = 0.0;
  double share = 0.0;
};

/// One anomaly event. Rows are 0-based; both ends inclusive.
struct Event {
  int64_t start_index = 0;
  int64_t end_index = 0;
  std::optional<int64_t> start_time{};       ///< timestamps[start_index] when timestamps were given
  std::optional<int64_t> end_time{};         ///< timestamps[end_index] when timestamps were given
  int64_t flagged_rows = 0;                  ///< flagged rows inside (< length() when runs were merged)
  double peak_score = 0.0;                   ///< max score over the event's rows
  int64_t peak_index = 0;                    ///< first row holding peak_score
  double mean_score = 0.0;                   ///< mean score over all the event's rows (gap rows included)
  std::vector<FeatureShare> top_features{};  ///< min(top_k, features) largest sums, descending;
                                             ///< ties: lower feature index first; empty without
                                             ///< contributions
  int64_t length() const { return end_index - start_index + 1; }
};

/// Groups flagged rows into events, in row order. A flagged row with a NaN score is treated as
/// unflagged. Contribution rows inside an event must be finite (they may be NaN elsewhere).
/// Throws ShapeError when flags, timestamps (if given) or contributions (if given; size must be
/// rows × features) do not match scores, Error for merge_gap < 0, min_length < 1, top_k < 0,
/// features < 0, or a non-finite contribution inside an event (naming row and feature).
std::vector<Event> find_events(const EventInputs& inputs, const EventOptions& options = {});

}  // namespace rnnad
