// Does a prepared series fit a model: feature count, and rows per segment against the window
// (rnnad/series.h; field case F10; docs/input.md).
#include <algorithm>
#include <string>
#include <vector>

#include "rnnad/error.h"
#include "rnnad/series.h"

namespace rnnad {
namespace {

/// Rows after the window that a forecaster must see before its first score (0 for other kinds).
int64_t rows_to_predict(const ModelConfig& c) {
  if (c.model_kind != ModelKind::Prediction) return 0;
  return c.has_scoring && c.scoring.method == ScoringConfig::Method::LstmAd ? c.prediction.horizon : 1;
}

/// "the model's window needs 10" or "the model needs 11 (a window of 10 and 1 row to predict)".
std::string needs_text(const ModelConfig& c) {
  const int64_t n = rows_needed(c), ahead = rows_to_predict(c), T = c.seq_len();
  const std::string predict = std::to_string(ahead) + (ahead == 1 ? " row" : " rows") + " to predict";
  if (ahead == 0)
    return T > 0 ? "the model's window needs " + std::to_string(n) : "the model needs " + std::to_string(n);
  if (T > 0)
    return "the model needs " + std::to_string(n) + " (a window of " + std::to_string(T) + " and " + predict + ")";
  return "the model needs " + std::to_string(n) + " (1 row to predict from and " + predict + ")";
}

/// Source line of a row (its 1-based number when the series has no lines).
int64_t line_of(const Series& s, int64_t row) {
  return s.lines.empty() ? row + 1 : s.lines[static_cast<std::size_t>(row)];
}

std::string rows_text(int64_t rows) { return std::to_string(rows) + (rows == 1 ? " row" : " rows"); }

}  // namespace

int64_t rows_needed(const ModelConfig& config) {
  const int64_t T = config.seq_len(), ahead = rows_to_predict(config);
  if (config.model_kind == ModelKind::Prediction) return (T > 0 ? T : 1) + ahead;
  return std::max<int64_t>(T, 1);
}

ModelFit check_model_fit(const Series& series, const PrepareReport& report, const ModelConfig& config) {
  const int64_t F = series.features(), I = config.input_size();
  const auto& model_names = config.normalization.features;
  if (F != I)
    throw ShapeError(series.source + ": the series has " + std::to_string(F) + " value " +
                     (F == 1 ? "column" : "columns") + " (" + join_names(series.columns) +
                     "), the model's input_size is " + std::to_string(I) +
                     (model_names.empty() ? " (it names no features)" : " (features " + join_names(model_names) + ")"));
  ModelFit fit;
  fit.rows_needed = rows_needed(config);
  if (!model_names.empty() && model_names != series.columns)
    fit.notes.push_back(series.source + ": columns " + join_names(series.columns) +
                        " are read as the model's features " + join_names(model_names) + ", in this order");
  std::vector<SeriesSegment> segments = report.segments;
  if (segments.empty()) segments.push_back({0, series.rows()});
  const std::string needs = needs_text(config);
  for (const SeriesSegment& seg : segments) {
    if (seg.rows() >= fit.rows_needed) {
      fit.usable.push_back(seg);
      continue;
    }
    fit.skipped.push_back(seg);
    if (segments.size() > 1)
      fit.notes.push_back(series.where(seg.begin) + ": segment of " + rows_text(seg.rows()) + " (rows [" +
                          std::to_string(seg.begin) + ", " + std::to_string(seg.end) + ")) skipped: " + needs);
  }
  if (!fit.usable.empty()) return fit;
  if (segments.size() == 1)
    throw ShapeError(series.source + ": series has " + rows_text(segments[0].rows()) + ", " + needs);
  const auto longest =
      std::max_element(segments.begin(), segments.end(),
                       [](const SeriesSegment& a, const SeriesSegment& b) { return a.rows() < b.rows(); });
  throw ShapeError(series.source + ": no segment can hold a window: the series has " + std::to_string(series.rows()) +
                   " rows in " + std::to_string(segments.size()) + " segments split at gaps, the longest has " +
                   rows_text(longest->rows()) + " (lines " + std::to_string(line_of(series, longest->begin)) + "-" +
                   std::to_string(line_of(series, longest->end - 1)) + "), " + needs +
                   "; bridging the gaps joins them");
}

}  // namespace rnnad
