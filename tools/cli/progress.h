// A one-line progress bar on stderr for long runs. rnnad's own: no Debian 12 package offers a
// C++ progress bar (`apt-cache search progress` finds Go, Perl and Haskell libraries and R's
// RcppProgress, which needs R's headers; `indicators` is not packaged).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace rnnad::cli {

/// Draws "<label> [#####     ]  45%  1.2M/2.7M rows  3.4 s" on stderr, only when stderr is a
/// terminal (isatty) and the work has run longer than `delay`; redrawn at most 10 times a second;
/// the line is cleared by finish() or the destructor. Never throws.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label, std::chrono::milliseconds delay = std::chrono::milliseconds(1000));
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// `done` of `total` rows (total > 0).
  void update(int64_t done, int64_t total);
  /// Clears the line if one was drawn.
  void finish();

 private:
  using Clock = std::chrono::steady_clock;
  std::string m_label;
  std::chrono::milliseconds m_delay;
  Clock::time_point m_start, m_last_draw;
  bool m_enabled = false, m_drawn = false;
};

}  // namespace rnnad::cli
