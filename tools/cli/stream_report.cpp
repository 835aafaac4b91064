// JSON rows and latency quantiles of `rnnad stream` (stream_report.h).
#include "stream_report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "rnnad/events.h"
#include "rnnad/labels.h"

namespace rnnad::cli {
namespace {

void append_double(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

const char* verdict_name(RowVerdict v) {
  switch (v) {
    case RowVerdict::NoScore: return "no_score";
    case RowVerdict::Calibrating: return "calibrating";
    case RowVerdict::Normal: return "normal";
    case RowVerdict::Anomaly: return "anomaly";
  }
  return "?";
}

}  // namespace

RowFeatures row_features(const StreamPool& pool, int64_t top_k) {
  RowFeatures f;
  f.top_k = top_k;
  f.columns = pool.feature_index();
  const std::vector<std::string>& names = pool.model().config().normalization.features;
  for (int64_t c : f.columns) {
    const std::size_t i = static_cast<std::size_t>(c);
    const std::string name = i < names.size() && !names[i].empty() ? names[i] : "m" + std::to_string(c + 1);
    f.json_names.push_back(nlohmann::json(name).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return f;
}

void append_row_json(std::string& out, const ScoredRow& row, std::string_view stream_json, TimeForm form,
                     const RowFeatures& features) {
  out += "{\"stream\":";
  out += stream_json;
  out += ",\"timestamp\":";
  if (form == TimeForm::DateTime) out += "\"" + format_timestamp(row.timestamp) + "\"";
  else append_int(out, row.timestamp);
  out += ",\"row\":";
  append_int(out, row.row);
  out += ",\"verdict\":\"";
  out += verdict_name(row.verdict);
  out += "\",\"score\":";
  append_double(out, row.score);
  out += ",\"threshold\":";
  append_double(out, row.threshold);
  out += ",\"lag\":";
  append_int(out, row.lag);
  out += ",\"top_features\":[";
  const bool finite = std::isfinite(row.score) &&
                      std::all_of(row.contributions.begin(), row.contributions.end(), [](double c) { return std::isfinite(c); });
  if (finite && features.top_k > 0 && !row.contributions.empty()) {
    const double score[1] = {row.score};
    const uint8_t flag[1] = {1};
    EventInputs in;
    in.scores = score;
    in.flags = flag;
    in.contributions = row.contributions;
    in.features = static_cast<int64_t>(row.contributions.size());
    EventOptions eo;
    eo.top_k = features.top_k;
    const std::vector<Event> events = find_events(in, eo);
    bool first = true;
    for (const FeatureShare& s : events.at(0).top_features) {
      const std::size_t k = static_cast<std::size_t>(s.feature);
      out += first ? "{\"feature\":" : ",{\"feature\":";
      first = false;
      out += features.json_names[k];
      out += ",\"column\":";
      append_int(out, features.columns[k]);
      out += ",\"share\":";
      append_double(out, s.share);
      out += ",\"contribution\":";
      append_double(out, s.sum);
      out += "}";
    }
  }
  out += "]}\n";
}

double LatencyLog::quantile(double q) const {
  if (m_batches.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::vector<std::pair<double, int64_t>> sorted = m_batches;
  std::sort(sorted.begin(), sorted.end());
  int64_t total = 0;
  for (const auto& b : sorted) total += b.second;
  const double need = q * static_cast<double>(total);
  int64_t seen = 0;
  for (const auto& b : sorted) {
    seen += b.second;
    if (static_cast<double>(seen) >= need) return b.first;
  }
  return sorted.back().first;
}

}  // namespace rnnad::cli
