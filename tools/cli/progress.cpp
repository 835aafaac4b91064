// ProgressBar (progress.h).
#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace rnnad::cli {
namespace {

constexpr int kWidth = 30;

/// 1234 -> "1234", 1234567 -> "1.2M".
std::string short_count(int64_t n) {
  char buf[32];
  if (n >= 1'000'000) std::snprintf(buf, sizeof buf, "%.1fM", static_cast<double>(n) / 1e6);
  else if (n >= 10'000) std::snprintf(buf, sizeof buf, "%.0fk", static_cast<double>(n) / 1e3);
  else std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  return buf;
}

}  // namespace

ProgressBar::ProgressBar(std::string label, std::chrono::milliseconds delay)
    : m_label(std::move(label)), m_delay(delay), m_start(Clock::now()), m_enabled(::isatty(STDERR_FILENO) == 1) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(int64_t done, int64_t total) {
  if (!m_enabled || total <= 0) return;
  const auto now = Clock::now();
  if (now - m_start < m_delay || (m_drawn && now - m_last_draw < std::chrono::milliseconds(100))) return;
  m_last_draw = now;
  m_drawn = true;
  const double frac = std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0);
  const int filled = static_cast<int>(frac * kWidth);
  const double seconds = std::chrono::duration<double>(now - m_start).count();
  std::fprintf(stderr, "\r%s [%s%s] %3d%%  %s/%s rows  %.1f s\x1b[K", m_label.c_str(), std::string(static_cast<std::size_t>(filled), '#').c_str(),
               std::string(static_cast<std::size_t>(kWidth - filled), ' ').c_str(), static_cast<int>(frac * 100),
               short_count(done).c_str(), short_count(total).c_str(), seconds);
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (!m_drawn) return;
  std::fputs("\r\x1b[K", stderr);
  std::fflush(stderr);
  m_drawn = false;
}

}  // namespace rnnad::cli
