// The output of `rnnad stream` (docs/streaming.md, "rnnad stream"): one JSON line per final row,
// and the latency quantiles of the exit summary.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rnnad/stream_pool.h"
#include "stream_input.h"

namespace rnnad::cli {

/// What a row's JSON line says about the model's features.
struct RowFeatures {
  std::vector<std::string> json_names;  ///< [F'] JSON string literal of each contribution column's feature name
  std::vector<int64_t> columns;         ///< [F'] its 0-based input column (StreamPool::feature_index())
  int64_t top_k = 3;                    ///< features listed per row
};

/// The JSON string literal of each contribution column's name: the model file's feature names
/// (`normalization.features`), else m1, m2, ... by input column (as the CSV reader names columns).
RowFeatures row_features(const StreamPool& pool, int64_t top_k);

/// Appends one line (with '\n') for `row` of the stream whose name is `stream_json` (a JSON
/// string literal):
/// {"stream":"host-1","timestamp":1388534400,"row":64,"verdict":"anomaly","score":0.53,
///  "threshold":0.42,"lag":0,"top_features":[{"feature":"value","column":0,"share":1,"contribution":0.53}]}
/// timestamp: an integer, or "YYYY-MM-DD HH:MM:SS" when the input's timestamps are date-times;
/// verdict: no_score, calibrating, normal or anomaly; score/threshold: null when NaN; numbers are
/// the shortest text that reads back as the double. top_features: the top_k largest
/// contributions of the row, ranked and shared as detect's events (find_events on the one row);
/// empty without a score.
void append_row_json(std::string& out, const ScoredRow& row, std::string_view stream_json, TimeForm form,
                     const RowFeatures& features);

/// Per-sample latencies, recorded per batch: every sample of a batch has the batch's latency.
class LatencyLog {
 public:
  void add(double seconds, int64_t samples) {
    if (samples > 0) m_batches.emplace_back(seconds, samples);
  }
  /// The q-quantile (q in [0, 1]) over samples: the smallest recorded latency that at least
  /// q · samples samples do not exceed. NaN when nothing was recorded.
  double quantile(double q) const;
  int64_t batches() const { return static_cast<int64_t>(m_batches.size()); }

 private:
  std::vector<std::pair<double, int64_t>> m_batches;
};

}  // namespace rnnad::cli
