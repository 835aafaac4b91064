// NAB anomaly windows against the time span of the series they label (docs/cli.md, "Labels"): a
// cut-down copy of a NAB file (its first day, a month) keeps the windows it overlaps, clipped to
// its span; the others are skipped with a note, as a series with no window is legitimate (NAB
// has files without windows).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "rnnad/labels.h"

namespace rnnad::cli {

/// The windows that overlap a series, and what was done to the others.
struct WindowsInSpan {
  std::vector<TimeWindow> windows;  ///< in file order; clipped to [first, last] timestamp
  std::vector<std::string> notes;   ///< one line per clipped window and one for the skipped ones
};

/// `windows` (one key of a NAB labels file, seconds) against the time span [min, max] of
/// `timestamps` ([rows], seconds, any order; must not be empty): a window wholly before min or
/// after max is skipped; a window reaching beyond the span is clipped to it (its start raised to
/// min, its end lowered to max, which are row timestamps, so nab_windows_to_rows maps it). `where`
/// starts each note, e.g. "labels.json: realKnownCause/x.csv: 3 of 4 NAB windows lie outside the
/// series' time span (2013-12-02 21:15:00 to 2013-12-03 21:10:00) and are skipped: window 1
/// [2013-12-10 ..., ...], ...". Windows inside the span are returned unchanged.
inline WindowsInSpan windows_in_span(std::span<const TimeWindow> windows, std::span<const int64_t> timestamps,
                                     const std::string& where) {
  WindowsInSpan out;
  if (timestamps.empty()) return out;
  const auto [lo_it, hi_it] = std::minmax_element(timestamps.begin(), timestamps.end());
  const int64_t lo = *lo_it, hi = *hi_it;
  const std::string span = "the series' time span (" + format_timestamp(lo) + " to " + format_timestamp(hi) + ")";
  std::string skipped;
  int64_t n_skipped = 0;
  for (std::size_t w = 0; w < windows.size(); ++w) {
    TimeWindow tw = windows[w];
    const std::string name = "window " + std::to_string(w) + " [" + tw.start_text + ", " + tw.end_text + "]";
    if (tw.end < lo || tw.start > hi) {
      skipped += (skipped.empty() ? "" : ", ") + name;
      ++n_skipped;
      continue;
    }
    if (tw.start < lo || tw.end > hi) {
      if (tw.start < lo) tw.start = lo, tw.start_text = format_timestamp(lo);
      if (tw.end > hi) tw.end = hi, tw.end_text = format_timestamp(hi);
      out.notes.push_back(where + ": " + name + " reaches beyond " + span + ": clipped to [" + tw.start_text + ", " +
                          tw.end_text + "]");
    }
    out.windows.push_back(std::move(tw));
  }
  if (n_skipped > 0) {
    const bool one = n_skipped == 1;
    out.notes.push_back(where + ": " + std::to_string(n_skipped) + " of " + std::to_string(windows.size()) +
                        " NAB windows " + (one ? "lies" : "lie") + " outside " + span + (one ? " and is" : " and are") +
                        " skipped" + (out.windows.empty() ? " (the series has no labelled rows)" : "") + ": " +
                        skipped);
  }
  return out;
}

}  // namespace rnnad::cli
