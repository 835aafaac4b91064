// prepare_series: timestamps (sort, duplicates, order), gaps and segments, missing values
// (rnnad/series.h; the policy: docs/input.md).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "rnnad/error.h"
#include "rnnad/labels.h"
#include "rnnad/series.h"

namespace rnnad {
namespace {

constexpr std::size_t kListed = 5;     // lines listed in a note before "and N more"
constexpr std::size_t kGapNotes = 10;  // gaps described one by one before a summary line

std::size_t idx(int64_t i) { return static_cast<std::size_t>(i); }

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

/// "4, 5, 7" or "4, 5, 7, 9, 11 and 20 more".
template <class T, class Fn>
std::string list_some(const std::vector<T>& items, Fn&& text) {
  std::string s;
  for (std::size_t i = 0; i < items.size() && i < kListed; ++i) s += (i ? ", " : "") + text(items[i]);
  if (items.size() > kListed) s += " and " + std::to_string(items.size() - kListed) + " more";
  return s;
}

/// "<source>:<line>:<timestamp column>": where a timestamp message points.
std::string where_time(const Series& s, int64_t row) {
  std::string w = s.where(row);
  if (s.timestamp_column_number > 0) w.append(":").append(std::to_string(s.timestamp_column_number));
  return w;
}

/// Rows in the order `order` (old row indices): timestamps, lines and values gathered.
void gather_rows(Series& s, const std::vector<int64_t>& order) {
  const int64_t f = s.features();
  std::vector<int64_t> t(order.size()), l(order.size());
  std::vector<float> v(order.size() * idx(f));
  for (std::size_t i = 0; i < order.size(); ++i) {
    const std::size_t o = idx(order[i]);
    t[i] = s.timestamps[o];
    l[i] = s.lines[o];
    std::copy_n(s.values.begin() + static_cast<std::ptrdiff_t>(o * idx(f)), f,
                v.begin() + static_cast<std::ptrdiff_t>(i * idx(f)));
  }
  s.timestamps = std::move(t);
  s.lines = std::move(l);
  s.values = std::move(v);
}

/// OrderPolicy::Sort: stable sort by timestamp; records the lines that were below an earlier one.
void sort_by_time(Series& s, PrepareReport& report) {
  if (std::is_sorted(s.timestamps.begin(), s.timestamps.end())) return;
  int64_t running_max = s.timestamps.front();
  for (std::size_t i = 0; i < s.timestamps.size(); ++i) {
    if (s.timestamps[i] < running_max) report.reordered_lines.push_back(s.lines[i]);
    running_max = std::max(running_max, s.timestamps[i]);
  }
  std::vector<int64_t> order(s.timestamps.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return s.timestamps[idx(a)] < s.timestamps[idx(b)]; });
  gather_rows(s, order);
}

/// Runs of equal timestamps are resolved by `policy.duplicates`; a decrease is an error (after a
/// sort none is left). Rows are compacted in place.
void resolve_duplicates(Series& s, const InputPolicy& policy, PrepareReport& report) {
  const int64_t rows = s.rows(), f = s.features();
  const auto& t = s.timestamps;
  // Compaction writes row `kept` <= i; rows i - 1 and later, which the checks read, are either not
  // yet written or hold the same row (a run of length 1, or the kept row of the run itself).
  int64_t kept = 0;
  for (int64_t i = 0; i < rows;) {
    int64_t end = i + 1;
    while (end < rows && t[idx(end)] == t[idx(i)]) ++end;
    if (i > 0 && t[idx(i)] < t[idx(i - 1)])
      throw FormatError(where_time(s, i) + ": timestamp not increasing: " + format_timestamp(t[idx(i)]) + " after " +
                        format_timestamp(t[idx(i - 1)]) + " on line " + std::to_string(s.lines[idx(i - 1)]) +
                        "; choose sort to order the rows by time, or ignore to keep file order");
    if (end - i > 1 && policy.duplicates == DuplicatePolicy::Error)
      throw FormatError(where_time(s, i + 1) + ": duplicate timestamp " + format_timestamp(t[idx(i)]) +
                        " (also on line " + std::to_string(s.lines[idx(i)]) +
                        "); choose keep-first or keep-last to drop one");
    const int64_t keep = policy.duplicates == DuplicatePolicy::KeepLast ? end - 1 : i;
    for (int64_t d = i; d < end; ++d)
      if (d != keep) report.dropped.push_back({s.lines[idx(d)], s.lines[idx(keep)], t[idx(d)]});
    if (keep != kept) {
      s.timestamps[idx(kept)] = t[idx(keep)];
      s.lines[idx(kept)] = s.lines[idx(keep)];
      std::copy_n(s.values.begin() + static_cast<std::ptrdiff_t>(keep * f), f,
                  s.values.begin() + static_cast<std::ptrdiff_t>(kept * f));
    }
    ++kept;
    i = end;
  }
  s.timestamps.resize(idx(kept));
  s.lines.resize(idx(kept));
  s.values.resize(idx(kept * f));
}

/// Steps larger than gap_factor × the (lower) median step.
void find_gaps(const Series& s, const InputPolicy& policy, PrepareReport& report) {
  const auto& t = s.timestamps;
  if (t.size() < 2) return;
  std::vector<int64_t> steps(t.size() - 1);
  for (std::size_t i = 1; i < t.size(); ++i) steps[i - 1] = t[i] - t[i - 1];
  const auto mid = steps.begin() + static_cast<std::ptrdiff_t>((steps.size() - 1) / 2);
  std::nth_element(steps.begin(), mid, steps.end());
  report.median_step = *mid;
  const double limit = policy.gap_factor * static_cast<double>(report.median_step);
  for (std::size_t i = 1; i < t.size(); ++i)
    if (static_cast<double>(t[i] - t[i - 1]) > limit)
      report.gaps.push_back({static_cast<int64_t>(i), s.lines[i - 1], s.lines[i], t[i - 1], t[i]});
}

void make_segments(int64_t rows, const InputPolicy& policy, PrepareReport& report) {
  int64_t begin = 0;
  if (!policy.bridge_gaps) {
    for (const TimeGap& g : report.gaps) {
      report.segments.push_back({begin, g.row});
      begin = g.row;
    }
  }
  report.segments.push_back({begin, rows});
}

/// Fills the NaN cells of one feature inside one segment (policy Interpolate or ForwardFill).
void fill_feature(Series& s, const SeriesSegment& seg, int64_t feature, MissingPolicy policy, PrepareReport& report) {
  const int64_t f = s.features();
  auto at = [&](int64_t row) -> float& { return s.values[idx(row * f + feature)]; };
  auto fill = [&](int64_t row, double v) {
    at(row) = static_cast<float>(v);
    report.filled.push_back({row, feature, s.lines[idx(row)]});
  };
  int64_t prev = -1;  // last row with a value
  for (int64_t r = seg.begin; r < seg.end; ++r) {
    if (std::isnan(at(r))) continue;
    for (int64_t m = prev < 0 ? seg.begin : prev + 1; m < r; ++m) {
      if (prev < 0)
        fill(m, at(r));  // leading run: the segment's first value
      else if (policy == MissingPolicy::ForwardFill)
        fill(m, at(prev));
      else
        fill(m, at(prev) + (static_cast<double>(at(r)) - at(prev)) * static_cast<double>(m - prev) /
                               static_cast<double>(r - prev));
    }
    prev = r;
  }
  if (prev < 0)
    throw FormatError(s.where(seg.begin, feature) + ": no value in lines " + std::to_string(s.lines[idx(seg.begin)]) +
                      "-" + std::to_string(s.lines[idx(seg.end - 1)]) + " (rows [" + std::to_string(seg.begin) + ", " +
                      std::to_string(seg.end) + ")): nothing to fill the missing cells from");
  for (int64_t m = prev + 1; m < seg.end; ++m) fill(m, at(prev));  // trailing run: the last value
}

void fill_missing(Series& s, const InputPolicy& policy, PrepareReport& report) {
  const int64_t f = s.features();
  const auto missing =
      static_cast<std::size_t>(std::count_if(s.values.begin(), s.values.end(), [](float v) { return std::isnan(v); }));
  if (missing == 0) return;
  if (policy.missing == MissingPolicy::Error) {
    const auto first = static_cast<int64_t>(
        std::find_if(s.values.begin(), s.values.end(), [](float v) { return std::isnan(v); }) - s.values.begin());
    throw FormatError(s.where(first / f, first % f) + ": missing value (empty or NaN cell); " +
                      plural(missing, "missing cell", "missing cells") +
                      " in all; choose interpolate or ffill to fill them");
  }
  for (const SeriesSegment& seg : report.segments)
    for (int64_t feature = 0; feature < f; ++feature) fill_feature(s, seg, feature, policy.missing, report);
  std::sort(report.filled.begin(), report.filled.end(), [](const FilledCell& a, const FilledCell& b) {
    return a.row != b.row ? a.row < b.row : a.feature < b.feature;
  });
}

void write_notes(const Series& s, const InputPolicy& policy, PrepareReport& r) {
  const std::string& src = s.source;
  if (!r.reordered_lines.empty())
    r.notes.push_back(src + ": sorted by timestamp: " + plural(r.reordered_lines.size(), "row was", "rows were") +
                      " out of order (" + (r.reordered_lines.size() == 1 ? "line " : "lines ") +
                      list_some(r.reordered_lines, [](int64_t l) { return std::to_string(l); }) + ")");
  if (!r.dropped.empty())
    r.notes.push_back(src + ": dropped " + plural(r.dropped.size(), "row", "rows") + " with a repeated timestamp (" +
                      policy_name(policy.duplicates) + "): " + list_some(r.dropped, [](const DroppedRow& d) {
                        return "line " + std::to_string(d.line) + " (kept line " + std::to_string(d.kept_line) + ")";
                      }));
  for (std::size_t i = 0; i < r.gaps.size() && i < kGapNotes; ++i) {
    const TimeGap& g = r.gaps[i];
    r.notes.push_back(src + ": gap of " + format_duration(g.step()) + " between lines " +
                      std::to_string(g.line_before) + " and " + std::to_string(g.line_after) + " (median step " +
                      format_duration(r.median_step) +
                      (policy.bridge_gaps ? "); bridged: windows may cross it" : "); windows do not cross it"));
  }
  if (r.gaps.size() > kGapNotes)
    r.notes.push_back(src + ": and " + plural(r.gaps.size() - kGapNotes, "more gap", "more gaps") + " (" +
                      std::to_string(r.segments.size()) + " segments)");
  if (!r.filled.empty())
    r.notes.push_back(src + ": filled " + plural(r.filled.size(), "missing cell", "missing cells") + " (" +
                      policy_name(policy.missing) + ") at " + list_some(r.filled, [&](const FilledCell& c) {
                        return "line " + std::to_string(c.line) + " '" + s.columns[idx(c.feature)] + "'";
                      }));
}

}  // namespace

PrepareReport prepare_series(Series& series, const InputPolicy& policy) {
  series.check_shape();
  if (!std::isfinite(policy.gap_factor) || policy.gap_factor <= 1.0)
    throw Error("input policy: gap_factor must be a finite number > 1 (got " + std::to_string(policy.gap_factor) + ")");
  const int64_t rows = series.rows();
  if (rows == 0) throw ShapeError(series.source + ": the series has no rows");
  if (series.lines.empty()) {  // a series built in code: its 1-based row numbers stand in for lines
    series.lines.resize(idx(rows));
    std::iota(series.lines.begin(), series.lines.end(), int64_t{1});
  }
  const auto inf = std::find_if(series.values.begin(), series.values.end(), [](float v) { return std::isinf(v); });
  if (inf != series.values.end()) {
    const auto i = static_cast<int64_t>(inf - series.values.begin());
    throw FormatError(series.where(i / series.features(), i % series.features()) + ": value is infinite");
  }
  PrepareReport report;
  if (series.has_timestamps() && policy.order != OrderPolicy::Ignore) {
    if (policy.order == OrderPolicy::Sort) sort_by_time(series, report);
    resolve_duplicates(series, policy, report);
    find_gaps(series, policy, report);
  }
  make_segments(series.rows(), policy, report);
  fill_missing(series, policy, report);
  write_notes(series, policy, report);
  return report;
}

}  // namespace rnnad
