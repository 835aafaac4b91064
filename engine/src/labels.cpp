// Label readers, timestamps, label runs and HitRate@P% (rnnad/labels.h).
#include "rnnad/labels.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <numeric>
#include <set>
#include <sstream>
#include <system_error>

#include "json_strict.h"
#include "rnnad/error.h"

namespace rnnad {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path.string() + ": cannot open for reading");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw IoError(path.string() + ": read failed");
  return text;
}

/// Splits `text` into lines: '\n' ends a line, a '\r' right before it is dropped; a last line
/// without '\n' counts, an empty tail after the final '\n' does not.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return lines;
}

std::string quote(std::string_view s) {
  constexpr size_t kMax = 60;
  std::string out = "'";
  out += s.size() > kMax ? std::string(s.substr(0, kMax)) + "..." : std::string(s);
  out += "'";
  return out;
}

/// Parses a non-negative decimal integer made of digits only (no sign, no spaces).
bool parse_digits(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

std::string where_line(const std::filesystem::path& path, size_t line_index) {
  return path.string() + ":" + std::to_string(line_index + 1);
}

}  // namespace

std::vector<RowRange> label_runs(std::span<const uint8_t> labels) {
  std::vector<RowRange> runs;
  const auto n = static_cast<int64_t>(labels.size());
  for (int64_t i = 0; i < n;) {
    if (labels[i] == 0) {
      ++i;
      continue;
    }
    int64_t j = i;
    while (j + 1 < n && labels[j + 1] != 0) ++j;
    runs.push_back({i, j});
    i = j + 1;
  }
  return runs;
}

// ---- Timestamps -------------------------------------------------------------------------------

int64_t parse_timestamp(std::string_view text, const std::string& where) {
  auto fail = [&](const std::string& reason) -> FormatError {
    return FormatError(where + ": bad timestamp " + quote(text) + ": " + reason + " (expected YYYY-MM-DD HH:MM:SS)");
  };
  // Fixed positions: YYYY-MM-DD HH:MM:SS[.f{1,6}]
  if (text.size() < 19) throw fail("too short");
  auto field = [&](size_t pos, size_t len, const char* name) {
    int64_t v = 0;
    if (!parse_digits(text.substr(pos, len), v))
      throw fail(std::string(name) + " is not " + std::to_string(len) + " digits");
    return v;
  };
  auto sep = [&](size_t pos, char c) {
    if (text[pos] != c) throw fail(std::string("expected '") + c + "' at position " + std::to_string(pos + 1));
  };
  const int64_t year = field(0, 4, "year");
  sep(4, '-');
  const int64_t month = field(5, 2, "month");
  sep(7, '-');
  const int64_t day = field(8, 2, "day");
  sep(10, ' ');
  const int64_t hour = field(11, 2, "hour");
  sep(13, ':');
  const int64_t minute = field(14, 2, "minute");
  sep(16, ':');
  const int64_t second = field(17, 2, "second");
  if (text.size() > 19) {
    sep(19, '.');
    std::string_view frac = text.substr(20);
    if (frac.empty() || frac.size() > 6) throw fail("fraction must have 1 to 6 digits");
    for (char c : frac) {
      if (c < '0' || c > '9') throw fail("fraction is not digits");
      if (c != '0') throw fail("sub-second timestamps are not supported (rnnad uses whole seconds)");
    }
  }
  if (year < 1000) throw fail("year before 1000");
  if (hour > 23) throw fail("hour > 23");
  if (minute > 59) throw fail("minute > 59");
  if (second > 59) throw fail("second > 59");
  const std::chrono::year_month_day ymd{std::chrono::year{static_cast<int>(year)},
                                        std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) throw fail("no such date");
  const int64_t days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  return days * 86400 + hour * 3600 + minute * 60 + second;
}

std::string format_timestamp(int64_t seconds) {
  // Years 1000..9999: [-30610224000, 253402300799].
  if (seconds < -30610224000LL || seconds > 253402300799LL)
    throw Error("format_timestamp: " + std::to_string(seconds) + " s is outside years 1000..9999");
  int64_t days = seconds / 86400;
  int64_t rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(rem / 3600),
                static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  return buf;
}

std::vector<int64_t> read_nab_timestamps(const std::filesystem::path& csv_path) {
  const std::string text = read_file(csv_path);
  const auto lines = split_lines(text);
  if (lines.empty() || lines[0] != "timestamp,value")
    throw FormatError(where_line(csv_path, 0) + ": expected header 'timestamp,value', got " +
                      quote(lines.empty() ? std::string_view{} : lines[0]));
  std::vector<int64_t> out;
  out.reserve(lines.size() - 1);
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t comma = lines[i].find(',');
    if (comma == std::string_view::npos)
      throw FormatError(where_line(csv_path, i) + ": expected '<timestamp>,<value>', got " + quote(lines[i]));
    out.push_back(parse_timestamp(lines[i].substr(0, comma), where_line(csv_path, i)));
  }
  if (out.empty()) throw FormatError(csv_path.string() + ": no rows after the header");
  return out;
}

// ---- NAB labels --------------------------------------------------------------------------------

std::map<std::string, std::vector<TimeWindow>> read_nab_windows(const std::filesystem::path& json_path) {
  const std::string src = json_path.string();
  const nlohmann::json doc = detail::parse_json_strict(read_file(json_path), src, "NAB windows", 8);
  if (!doc.is_object()) throw FormatError(src + ": expected a JSON object of file -> windows");
  std::map<std::string, std::vector<TimeWindow>> out;
  for (const auto& [key, value] : doc.items()) {
    const std::string ctx = src + ": '" + key + "'";
    if (!value.is_array()) throw FormatError(ctx + ": expected a list of [start, end] windows");
    std::vector<TimeWindow> windows;
    for (size_t w = 0; w < value.size(); ++w) {
      const auto& pair = value[w];
      const std::string wctx = ctx + " window " + std::to_string(w);
      if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string())
        throw FormatError(wctx + ": expected [\"start\", \"end\"] (two timestamp strings)");
      TimeWindow tw;
      tw.start_text = pair[0].get<std::string>();
      tw.end_text = pair[1].get<std::string>();
      tw.start = parse_timestamp(tw.start_text, wctx + " start");
      tw.end = parse_timestamp(tw.end_text, wctx + " end");
      if (tw.start > tw.end)
        throw FormatError(wctx + ": start " + quote(tw.start_text) + " is after end " + quote(tw.end_text));
      if (!windows.empty() && tw.start <= windows.back().end)
        throw FormatError(wctx + ": starts at " + quote(tw.start_text) + ", not after the previous window's end " +
                          quote(windows.back().end_text));
      windows.push_back(std::move(tw));
    }
    out.emplace(key, std::move(windows));
  }
  return out;
}

std::map<std::string, std::vector<int64_t>> read_nab_points(const std::filesystem::path& json_path) {
  const std::string src = json_path.string();
  const nlohmann::json doc = detail::parse_json_strict(read_file(json_path), src, "NAB labels", 8);
  if (!doc.is_object()) throw FormatError(src + ": expected a JSON object of file -> timestamps");
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& [key, value] : doc.items()) {
    const std::string ctx = src + ": '" + key + "'";
    if (!value.is_array()) throw FormatError(ctx + ": expected a list of timestamps");
    std::vector<int64_t> points;
    for (size_t p = 0; p < value.size(); ++p) {
      const std::string pctx = ctx + " entry " + std::to_string(p);
      if (!value[p].is_string()) throw FormatError(pctx + ": expected a timestamp string");
      points.push_back(parse_timestamp(value[p].get<std::string>(), pctx));
    }
    out.emplace(key, std::move(points));
  }
  return out;
}

std::vector<RowRange> nab_windows_to_rows(std::span<const TimeWindow> windows, std::span<const int64_t> timestamps,
                                          const std::string& file_key) {
  std::vector<RowRange> rows;
  const auto n = static_cast<int64_t>(timestamps.size());
  int64_t scan = 0;  // first row a window may start at
  for (size_t w = 0; w < windows.size(); ++w) {
    const TimeWindow& tw = windows[w];
    const std::string ctx =
        file_key + ": window " + std::to_string(w) + " [" + tw.start_text + ", " + tw.end_text + "]";
    int64_t first = scan;
    while (first < n && timestamps[first] != tw.start) ++first;
    if (first == n) {
      const bool earlier =
          std::find(timestamps.begin(), timestamps.begin() + scan, tw.start) != timestamps.begin() + scan;
      throw FormatError(ctx + ": start timestamp " + quote(tw.start_text) + " is not in the series" +
                        (earlier ? " after the previous window" : ""));
    }
    int64_t last = first;
    while (last < n && timestamps[last] != tw.end) ++last;
    if (last == n)
      throw FormatError(ctx + ": end timestamp " + quote(tw.end_text) + " is not in the series at or after row " +
                        std::to_string(first));
    rows.push_back({first, last});
    scan = last + 1;
  }
  return rows;
}

// ---- SMD / ASD labels -----------------------------------------------------------------------

std::vector<uint8_t> read_binary_labels(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  const auto lines = split_lines(text);
  std::vector<uint8_t> labels;
  labels.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] == "0") {
      labels.push_back(0);
    } else if (lines[i] == "1") {
      labels.push_back(1);
    } else {
      throw FormatError(where_line(path, i) + ": expected 0 or 1, got " + quote(lines[i]));
    }
  }
  if (labels.empty()) throw FormatError(path.string() + ": no rows");
  return labels;
}

std::vector<InterpretationSegment> read_interpretation_labels(const std::filesystem::path& path,
                                                              SegmentEnd end_convention) {
  const std::string text = read_file(path);
  const auto lines = split_lines(text);
  std::vector<InterpretationSegment> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string where = where_line(path, i);
    const std::string_view line = lines[i];
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      throw FormatError(where + ": expected 'start-end:m1,m2,...', got " + quote(line));
    const std::string_view range = line.substr(0, colon);
    const size_t dash = range.find('-');
    if (dash == std::string_view::npos)
      throw FormatError(where + ": expected 'start-end' before ':', got " + quote(range));
    int64_t start = 0;
    int64_t end = 0;
    if (!parse_digits(range.substr(0, dash), start))
      throw FormatError(where + ": start " + quote(range.substr(0, dash)) + " is not a row index");
    if (!parse_digits(range.substr(dash + 1), end))
      throw FormatError(where + ": end " + quote(range.substr(dash + 1)) + " is not a row index");
    InterpretationSegment seg;
    if (end_convention == SegmentEnd::Exclusive) {
      if (end <= start) throw FormatError(where + ": empty segment " + quote(range) + " (end is exclusive)");
      seg.rows = {start, end - 1};
    } else {
      if (end < start) throw FormatError(where + ": end before start in " + quote(range) + " (end is inclusive)");
      seg.rows = {start, end};
    }
    std::string_view list = line.substr(colon + 1);
    std::set<int64_t> seen;
    while (true) {
      const size_t comma = list.find(',');
      const std::string_view item = list.substr(0, comma);
      int64_t metric = 0;
      if (!parse_digits(item, metric))
        throw FormatError(where + ": metric " + quote(item) + " is not a 1-based metric number");
      if (metric < 1) throw FormatError(where + ": metric 0 (metric numbers are 1-based)");
      if (!seen.insert(metric).second)
        throw FormatError(where + ": metric " + std::to_string(metric) + " listed twice");
      seg.features.push_back(metric - 1);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    out.push_back(std::move(seg));
  }
  return out;
}

// ---- HitRate@P% ----------------------------------------------------------------------------------

HitRate interpretation_hit_rate(std::span<const double> contributions, int64_t features,
                                std::span<const InterpretationSegment> segments, double p_percent,
                                std::span<const uint8_t> detected) {
  if (features < 1) throw Error("interpretation_hit_rate: features must be >= 1, got " + std::to_string(features));
  if (!(p_percent > 0.0) || !std::isfinite(p_percent))
    throw Error("interpretation_hit_rate: p_percent must be > 0, got " + std::to_string(p_percent));
  if (contributions.size() % static_cast<size_t>(features) != 0)
    throw ShapeError("interpretation_hit_rate: contributions has " + std::to_string(contributions.size()) +
                     " values, not a multiple of features = " + std::to_string(features));
  const auto rows = static_cast<int64_t>(contributions.size()) / features;
  if (!detected.empty() && static_cast<int64_t>(detected.size()) != rows)
    throw ShapeError("interpretation_hit_rate: detected has " + std::to_string(detected.size()) +
                     " rows, contributions " + std::to_string(rows));

  HitRate result;
  result.per_segment.assign(segments.size(), 0.0);
  result.evaluated.assign(segments.size(), 0);
  std::vector<double> sums(static_cast<size_t>(features));
  std::vector<int64_t> order(static_cast<size_t>(features));
  double total = 0.0;
  for (size_t s = 0; s < segments.size(); ++s) {
    const InterpretationSegment& seg = segments[s];
    const std::string ctx = "interpretation_hit_rate: segment " + std::to_string(s) + " [" +
                            std::to_string(seg.rows.first) + ", " + std::to_string(seg.rows.last) + "]";
    if (seg.rows.first < 0 || seg.rows.last < seg.rows.first || seg.rows.last >= rows)
      throw Error(ctx + ": outside the " + std::to_string(rows) + " rows");
    if (seg.features.empty()) throw Error(ctx + ": no labelled feature");
    for (int64_t f : seg.features)
      if (f < 0 || f >= features)
        throw Error(ctx + ": feature index " + std::to_string(f) + " outside [0, " + std::to_string(features) + ")");

    std::fill(sums.begin(), sums.end(), 0.0);
    int64_t used = 0;
    for (int64_t t = seg.rows.first; t <= seg.rows.last; ++t) {
      if (!detected.empty() && detected[t] == 0) continue;
      const double* row = contributions.data() + t * features;
      if (!std::all_of(row, row + features, [](double v) { return std::isfinite(v); })) continue;
      for (int64_t f = 0; f < features; ++f) sums[f] += row[f];
      ++used;
    }
    if (used == 0) {
      ++result.segments_skipped;
      continue;
    }
    std::iota(order.begin(), order.end(), int64_t{0});
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return sums[a] > sums[b]; });
    const auto labelled = static_cast<int64_t>(seg.features.size());
    // Python's int(p / 100 * len(label)) in InterFusion's get_hit_rate.
    const auto chances =
        std::min(static_cast<int64_t>(std::floor(p_percent / 100.0 * static_cast<double>(labelled))), features);
    int64_t hits = 0;
    for (int64_t r = 0; r < chances; ++r)
      if (std::find(seg.features.begin(), seg.features.end(), order[r]) != seg.features.end()) ++hits;
    result.per_segment[s] = static_cast<double>(hits) / static_cast<double>(labelled);
    result.evaluated[s] = 1;
    total += result.per_segment[s];
    ++result.segments_evaluated;
  }
  result.hit_rate = result.segments_evaluated > 0 ? total / static_cast<double>(result.segments_evaluated) : 0.0;
  return result;
}

}  // namespace rnnad
