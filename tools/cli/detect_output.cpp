// The per-row CSV and the events JSON of `rnnad detect` (detect_output.h).
#include "detect_output.h"

#include <charconv>
#include <cmath>

#include "rnnad/labels.h"
#include "rnnad_io/csv_cells.h"
#include "rnnad_io/csv_writer.h"
#include "text.h"

namespace rnnad::cli {
namespace {

using nlohmann::ordered_json;

/// Appends the shortest text that reads back as `v` (std::to_chars, no locale).
template <class T>
void append_number(std::string& line, T v) {
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  line.append(buf, r.ptr);
}

std::string feature_name(const Series& series, const DetectionResult& result, int64_t k) {
  const int64_t column = result.feature_index[static_cast<std::size_t>(k)];
  return series.columns[static_cast<std::size_t>(column)];
}

ordered_json prf_json(const Prf& p) {
  return {{"precision", p.precision}, {"recall", p.recall}, {"f1", p.f1}, {"tp", p.tp}, {"fp", p.fp}, {"fn", p.fn}};
}

ordered_json baseline_json(const RandomBaseline& r) {
  return {{"mean", r.mean}, {"min", r.min}, {"max", r.max}, {"seeds", r.seeds}};
}

}  // namespace

std::vector<std::string> value_column_names(const Series& series) {
  std::vector<std::string> names;
  for (const std::string& c : series.columns) {
    const bool taken =
        c == "score" || c == "threshold" || c == "is_anomaly" || c == "filled" || is_timestamp_name(c) || c.empty();
    names.push_back(taken ? "input_" + c : c);
  }
  return names;
}

void write_rows_csv(std::FILE* out, const Series& series, const DetectionResult& result,
                    std::span<const FilledCell> filled) {
  const int64_t F = series.features();
  std::string line;
  if (series.has_timestamps()) line = "timestamp,";
  for (const std::string& name : value_column_names(series)) line += csv_field(name) + ",";
  line += "score,threshold,is_anomaly,filled\n";
  std::size_t next_filled = 0;  // `filled` is ordered by row
  std::fputs(line.c_str(), out);
  for (int64_t r = 0; r < series.rows(); ++r) {
    line.clear();
    if (series.has_timestamps()) line += format_timestamp(series.timestamps[static_cast<std::size_t>(r)]) + ",";
    for (int64_t f = 0; f < F; ++f) {
      append_number(line, series.value(r, f));
      line += ',';
    }
    const auto i = static_cast<std::size_t>(r);
    const double score = result.scores[i], threshold = result.threshold.threshold[i];
    if (std::isnan(score)) {
      line += ",,";
    } else {
      append_number(line, score);
      line += ',';
      if (!std::isnan(threshold)) append_number(line, threshold);
      line += result.threshold.flags[i] ? ",1" : ",0";
    }
    int64_t filled_here = 0;
    for (; next_filled < filled.size() && filled[next_filled].row == r; ++next_filled) ++filled_here;
    line += ',';
    append_number(line, filled_here);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), out);
  }
}

std::string event_why(const Event& event, const Series& series, const DetectionResult& result) {
  std::string why;
  for (const FeatureShare& s : event.top_features)
    why += (why.empty() ? "" : ", ") + feature_name(series, result, s.feature) + " " + fixed(100.0 * s.share, 0) + "%";
  return why;
}

ordered_json events_json(const Series& series, const DetectionResult& result, const ThresholdSettings& settings,
                         const RunInfo& info, const RowLabels* labels, const Evaluation* evaluation) {
  ordered_json j;
  j["input"] = info.input;
  j["model"] = info.model;
  j["device"] = info.device;
  j["rows"] = result.rows;
  j["scored_rows"] = result.scored_rows;
  int64_t flagged = 0;
  for (uint8_t f : result.threshold.flags) flagged += f;
  j["flagged_rows"] = flagged;
  j["threshold"] = {{"method", threshold_method_name(settings.method)},
                    {"description", info.threshold},
                    {"calibration_rows", result.threshold.calibration_rows},
                    {"initial", std::isnan(result.threshold.initial) ? ordered_json() : ordered_json(result.threshold.initial)}};
  ordered_json features = ordered_json::array();
  for (int64_t k = 0; k < result.features(); ++k) features.push_back(feature_name(series, result, k));
  j["features"] = features;
  auto time = [&](int64_t row) {
    return series.has_timestamps() ? ordered_json(format_timestamp(series.timestamps[static_cast<std::size_t>(row)]))
                                   : ordered_json();
  };
  auto line = [&](int64_t row) {
    return series.lines.empty() ? ordered_json() : ordered_json(series.lines[static_cast<std::size_t>(row)]);
  };
  ordered_json events = ordered_json::array();
  for (const Event& e : result.events) {
    ordered_json top = ordered_json::array();
    for (const FeatureShare& s : e.top_features)
      top.push_back({{"feature", feature_name(series, result, s.feature)},
                     {"column", result.feature_index[static_cast<std::size_t>(s.feature)]},
                     {"share", s.share},
                     {"contribution", s.sum}});
    events.push_back({{"start_row", e.start_index}, {"end_row", e.end_index},
                      {"start_line", line(e.start_index)}, {"end_line", line(e.end_index)},
                      {"start_time", time(e.start_index)}, {"end_time", time(e.end_index)},
                      {"rows", e.length()}, {"flagged_rows", e.flagged_rows},
                      {"peak_row", e.peak_index}, {"peak_time", time(e.peak_index)},
                      {"peak_score", e.peak_score}, {"mean_score", e.mean_score},
                      {"why", event_why(e, series, result)}, {"top_features", top}});
  }
  j["events"] = events;
  j["notes"] = info.notes;
  if (labels && evaluation) {
    const Evaluation& e = *evaluation;
    ordered_json m = {{"labels", labels->description},
                      {"point", prf_json(e.point)},
                      {"point_random_f1", baseline_json(e.point_random)},
                      {"point_adjusted", prf_json(e.adjusted)},
                      {"point_adjusted_random_f1", baseline_json(e.adjusted_random)},
                      {"event_wise", prf_json(e.events)},
                      {"oracle_best_f1", {{"f1", e.oracle.at_best.f1}, {"threshold", e.oracle.threshold}}}};
    if (e.nab) {
      ordered_json nab;
      for (const NabProfileScore& p : *e.nab)
        nab[p.profile.name] = p.normalized ? ordered_json(*p.normalized) : ordered_json();
      m["nab_score"] = nab;
    }
    j["metrics"] = m;
  }
  return j;
}

}  // namespace rnnad::cli
