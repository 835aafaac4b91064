// NAB scoring (rnnad/nab_score.h; algorithms.md §7.3).
#include "rnnad/nab_score.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "rnnad/error.h"

namespace rnnad {
namespace {

void check_windows(int64_t rows, std::span<const RowRange> windows, const std::string& ctx) {
  for (size_t w = 0; w < windows.size(); ++w) {
    const RowRange& r = windows[w];
    const std::string where =
        ctx + ": window " + std::to_string(w) + " [" + std::to_string(r.first) + ", " + std::to_string(r.last) + "]";
    if (r.first < 0 || r.last < r.first || r.last >= rows)
      throw Error(where + " is not inside rows [0, " + std::to_string(rows) + ")");
    if (w > 0 && r.first <= windows[w - 1].last)
      throw Error(where + " overlaps or precedes the previous window (windows must be sorted, disjoint)");
  }
}

}  // namespace

const std::array<NabProfile, 3>& nab_profiles() {
  // numenta/NAB config/profiles.json (tnWeight 1.0 everywhere, unused).
  static const std::array<NabProfile, 3> profiles{{
      {"standard", 1.0, 0.11, 1.0},
      {"reward_low_FP_rate", 1.0, 0.22, 1.0},
      {"reward_low_FN_rate", 1.0, 0.11, 2.0},
  }};
  return profiles;
}

double nab_scaled_sigmoid(double y) {
  if (y >= 3.0) return -1.0;  // NaN never reaches here from rnnad's own callers
  // 2 * sigmoid(-5y) - 1 with sigmoid(x) = 1 / (1 + e^-x), as nab/sweeper.py scaledSigmoid.
  return 2.0 / (1.0 + std::exp(5.0 * y)) - 1.0;
}

double nab_probation_length(int64_t rows, double probation_fraction) {
  if (!(probation_fraction >= 0.0 && probation_fraction < 1.0))
    throw Error("nab_probation_length: probation fraction must be in [0, 1), got " +
                std::to_string(probation_fraction));
  if (rows < 0) throw Error("nab_probation_length: rows must be >= 0, got " + std::to_string(rows));
  return std::min(std::floor(probation_fraction * static_cast<double>(rows)), probation_fraction * 5000.0);
}

std::vector<double> nab_sweep_scores(int64_t rows, std::span<const RowRange> windows, const NabProfile& profile) {
  if (rows < 0) throw Error("nab_sweep_scores: rows must be >= 0, got " + std::to_string(rows));
  check_windows(rows, windows, "nab_sweep_scores");
  const double max_tp = nab_scaled_sigmoid(-1.0);
  std::vector<double> sweep(static_cast<size_t>(rows));
  size_t next = 0;                 // next window not yet entered
  const RowRange* prev = nullptr;  // latest window that ended
  for (int64_t i = 0; i < rows; ++i) {
    if (next < windows.size() && windows[next].contains(i)) {
      const RowRange& w = windows[next];
      const auto width = static_cast<double>(w.length());
      const double pos = -static_cast<double>(w.last - i + 1) / width;
      sweep[i] = nab_scaled_sigmoid(pos) * profile.tp_weight / max_tp;
      if (i == w.last) {
        prev = &w;
        ++next;
      }
    } else if (prev == nullptr) {
      sweep[i] = nab_scaled_sigmoid(3.0) * profile.fp_weight;  // = -fp_weight
    } else {
      const double denom = static_cast<double>(prev->length() - 1);
      const double pos = denom > 0.0 ? std::abs(static_cast<double>(prev->last - i)) / denom
                                     : std::numeric_limits<double>::infinity();  // NAB: ZeroDivisionError
      sweep[i] = nab_scaled_sigmoid(pos) * profile.fp_weight;
    }
  }
  return sweep;
}

NabFileScore nab_score_file(const NabFileInput& file, const NabProfile& profile, double probation_fraction) {
  const auto rows = static_cast<int64_t>(file.detections.size());
  check_windows(rows, file.windows, "nab_score_file '" + file.name + "'");
  const double probation = nab_probation_length(rows, probation_fraction);
  const std::vector<double> sweep = nab_sweep_scores(rows, file.windows, profile);

  NabFileScore s;
  s.name = file.name;
  auto scored = [&](int64_t i) { return static_cast<double>(i) >= probation; };
  size_t w = 0;
  for (int64_t i = 0; i < rows; ++i) {
    while (w < file.windows.size() && file.windows[w].last < i) ++w;
    const bool in_window = w < file.windows.size() && file.windows[w].contains(i);
    if (!scored(i)) continue;
    const bool det = file.detections[i] != 0;
    if (in_window) {
      if (det)
        ++s.tp;
      else
        ++s.fn;
    } else if (det) {
      ++s.fp;
      s.raw += sweep[i];
    } else {
      ++s.tn;
    }
  }
  for (const RowRange& win : file.windows) {
    if (!scored(win.last)) continue;  // all rows probationary: not counted (NAB never scores it)
    ++s.windows_counted;
    double best = -profile.fn_weight;
    bool detected = false;
    for (int64_t i = win.first; i <= win.last; ++i) {
      if (!scored(i) || file.detections[i] == 0) continue;
      best = std::max(best, sweep[i]);
      detected = true;
    }
    s.windows_detected += detected;
    s.raw += best;
  }
  return s;
}

NabProfileScore nab_score(std::span<const NabFileInput> files, const NabProfile& profile, double probation_fraction) {
  NabProfileScore out;
  out.profile = profile;
  int64_t windows = 0;
  for (const NabFileInput& f : files) {
    out.files.push_back(nab_score_file(f, profile, probation_fraction));
    out.raw += out.files.back().raw;
    windows += out.files.back().windows_counted;
  }
  out.raw_perfect = profile.tp_weight * static_cast<double>(windows);
  out.raw_null = -profile.fn_weight * static_cast<double>(windows);
  if (windows > 0) out.normalized = 100.0 * (out.raw - out.raw_null) / (out.raw_perfect - out.raw_null);
  return out;
}

std::array<NabProfileScore, 3> nab_score_all_profiles(std::span<const NabFileInput> files, double probation_fraction) {
  const auto& p = nab_profiles();
  return {nab_score(files, p[0], probation_fraction), nab_score(files, p[1], probation_fraction),
          nab_score(files, p[2], probation_fraction)};
}

}  // namespace rnnad
