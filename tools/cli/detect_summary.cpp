// The stdout summary of `rnnad detect` (detect_summary.h).
#include "detect_summary.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "detect_output.h"
#include "rnnad/labels.h"
#include "text.h"

namespace rnnad::cli {

void print_events(std::ostream& out, const Series& series, const DetectionResult& result, int64_t max_shown) {
  const auto n = static_cast<int64_t>(result.events.size());
  std::vector<std::size_t> shown(result.events.size());
  std::iota(shown.begin(), shown.end(), std::size_t{0});
  if (n > max_shown) {
    std::stable_sort(shown.begin(), shown.end(), [&](std::size_t a, std::size_t b) {
      return result.events[a].peak_score > result.events[b].peak_score;
    });
    shown.resize(static_cast<std::size_t>(max_shown));
    std::sort(shown.begin(), shown.end());
  }
  const bool ts = series.has_timestamps();
  auto where = [&](int64_t row) {
    return ts ? format_timestamp(series.timestamps[static_cast<std::size_t>(row)]) : "row " + std::to_string(row);
  };
  char head[160];
  std::snprintf(head, sizeof head, "  %4s  %-19s  %-19s  %6s  %10s  %s\n", "#", ts ? "start" : "start", ts ? "end" : "end",
                "rows", "peak", "why (top features, share of the event's score)");
  out << head;
  for (std::size_t i : shown) {
    const Event& e = result.events[i];
    char line[160];
    std::snprintf(line, sizeof line, "  %4zu  %-19s  %-19s  %6lld  %10s  ", i + 1, where(e.start_index).c_str(),
                  where(e.end_index).c_str(), static_cast<long long>(e.length()), num(e.peak_score, 4).c_str());
    out << line << event_why(e, series, result) << "\n";
  }
  if (n > max_shown)
    out << "  ... " << count(n - max_shown, "more event") << " (listed: the " << max_shown
        << " with the highest peaks; all are in the events JSON)\n";
}

std::string describe_series(const Series& series) {
  std::string s = count(series.rows(), "row") + " x " + count(series.features(), "feature") + " (";
  const std::vector<std::string> names = value_column_names(series);
  for (std::size_t f = 0; f < names.size() && f < 6; ++f) s += (f ? ", " : "") + names[f];
  if (names.size() > 6) s += ", ...";
  s += ")";
  if (series.has_timestamps() && series.rows() > 0)
    s += ", " + format_timestamp(series.timestamps.front()) + " to " + format_timestamp(series.timestamps.back());
  return s;
}

}  // namespace rnnad::cli
