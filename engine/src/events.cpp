// Grouping flagged rows into events (rnnad/events.h).
#include "rnnad/events.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "rnnad/error.h"

namespace rnnad {

std::vector<Event> find_events(const EventInputs& in, const EventOptions& opt) {
  const auto rows = static_cast<int64_t>(in.scores.size());
  auto shape_error = [&](const char* what, size_t got, int64_t want) {
    return ShapeError(std::string("find_events: ") + what + " has " + std::to_string(got) + " values, expected " +
                      std::to_string(want) + " (scores has " + std::to_string(rows) + " rows)");
  };
  if (static_cast<int64_t>(in.flags.size()) != rows) throw shape_error("flags", in.flags.size(), rows);
  if (!in.timestamps.empty() && static_cast<int64_t>(in.timestamps.size()) != rows)
    throw shape_error("timestamps", in.timestamps.size(), rows);
  if (in.features < 0) throw Error("find_events: features must be >= 0, got " + std::to_string(in.features));
  const bool have_contrib = !in.contributions.empty();
  if (have_contrib && (in.features == 0 || static_cast<int64_t>(in.contributions.size()) != rows * in.features))
    throw shape_error("contributions", in.contributions.size(), rows * in.features);
  if (opt.merge_gap < 0) throw Error("find_events: merge_gap must be >= 0, got " + std::to_string(opt.merge_gap));
  if (opt.min_length < 1) throw Error("find_events: min_length must be >= 1, got " + std::to_string(opt.min_length));
  if (opt.top_k < 0) throw Error("find_events: top_k must be >= 0, got " + std::to_string(opt.top_k));

  auto flagged = [&](int64_t i) { return in.flags[i] != 0 && !std::isnan(in.scores[i]); };

  // 1. Runs of flagged rows, merged across gaps of <= merge_gap scored rows.
  struct Span {
    int64_t first, last, flagged;
  };
  std::vector<Span> spans;
  for (int64_t i = 0; i < rows;) {
    if (!flagged(i)) {
      ++i;
      continue;
    }
    int64_t j = i;
    while (j + 1 < rows && flagged(j + 1)) ++j;
    const int64_t run_flagged = j - i + 1;
    bool merged = false;
    if (!spans.empty()) {
      Span& prev = spans.back();
      const int64_t gap = i - prev.last - 1;
      if (gap <= opt.merge_gap) {
        bool gap_scored = true;
        for (int64_t g = prev.last + 1; g < i; ++g)
          if (std::isnan(in.scores[g])) gap_scored = false;
        if (gap_scored) {
          prev.last = j;
          prev.flagged += run_flagged;
          merged = true;
        }
      }
    }
    if (!merged) spans.push_back({i, j, run_flagged});
    i = j + 1;
  }

  // 2. Summaries of the spans long enough.
  std::vector<Event> events;
  std::vector<double> sums(static_cast<size_t>(in.features));
  std::vector<int64_t> order(static_cast<size_t>(in.features));
  for (const Span& s : spans) {
    if (s.last - s.first + 1 < opt.min_length) continue;
    Event e;
    e.start_index = s.first;
    e.end_index = s.last;
    e.flagged_rows = s.flagged;
    if (!in.timestamps.empty()) {
      e.start_time = in.timestamps[s.first];
      e.end_time = in.timestamps[s.last];
    }
    e.peak_index = s.first;
    e.peak_score = in.scores[s.first];
    double total = 0.0;
    for (int64_t i = s.first; i <= s.last; ++i) {
      total += in.scores[i];
      if (in.scores[i] > e.peak_score) {
        e.peak_score = in.scores[i];
        e.peak_index = i;
      }
    }
    e.mean_score = total / static_cast<double>(s.last - s.first + 1);

    if (have_contrib && opt.top_k > 0) {
      std::fill(sums.begin(), sums.end(), 0.0);
      for (int64_t i = s.first; i <= s.last; ++i) {
        const double* row = in.contributions.data() + i * in.features;
        for (int64_t f = 0; f < in.features; ++f) {
          if (!std::isfinite(row[f]))
            throw Error("find_events: contribution at row " + std::to_string(i) + ", feature " + std::to_string(f) +
                        " is not finite (" + std::to_string(row[f]) + ") inside the event [" + std::to_string(s.first) +
                        ", " + std::to_string(s.last) + "]");
          sums[f] += row[f];
        }
      }
      const double all = std::accumulate(sums.begin(), sums.end(), 0.0);
      std::iota(order.begin(), order.end(), int64_t{0});
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return sums[a] > sums[b]; });
      const int64_t k = std::min(opt.top_k, in.features);
      for (int64_t r = 0; r < k; ++r) {
        const int64_t f = order[r];
        e.top_features.push_back({f, sums[f], all != 0.0 ? sums[f] / all : 0.0});
      }
    }
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace rnnad
