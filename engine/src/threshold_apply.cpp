// One threshold method over a score series with "no score" rows (rnnad/threshold_apply.h,
// docs/thresholds.md "Applying a method to a series").
#include "rnnad/threshold_apply.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "rnnad/error.h"
#include "rnnad/threshold_static.h"

namespace rnnad {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::size_t idx(int64_t i) { return static_cast<std::size_t>(i); }

/// The fewest calibration values whose order statistic at `level` leaves min_peaks values strictly
/// above it (when the values are distinct): n − trunc(level·n) − 1 >= min_peaks.
int64_t rows_for_peaks(const SpotParams& p) {
  const auto peaks = static_cast<int64_t>(p.min_peaks);
  int64_t n = peaks + 1;
  while (n - static_cast<int64_t>(p.level * static_cast<double>(n)) - 1 < peaks) ++n;
  return n;
}


void apply_ndt(std::span<const double> scores, const TelemanomParams& params, RowThresholds& out) {
  const auto n = static_cast<int64_t>(scores.size());
  bool first_window = true;
  for (int64_t begin = 0; begin < n;) {
    if (std::isnan(scores[idx(begin)])) {
      ++begin;
      continue;
    }
    int64_t end = begin;
    while (end < n && !std::isnan(scores[idx(end)])) ++end;
    const TelemanomResult r = telemanom_detect(scores.subspan(idx(begin), idx(end - begin)), params);
    for (const TelemanomWindow& w : r.windows) {
      for (int64_t k = std::max(w.judge_start, r.num_to_ignore); k < w.end; ++k) out.threshold[idx(begin + k)] = w.epsilon;
      if (first_window) out.initial = w.epsilon, first_window = false;
    }
    for (int64_t k : r.flagged) out.flags[idx(begin + k)] = 1;
    begin = end;
  }
}

}  // namespace

SpotParams ThresholdSettings::default_spot_params() {
  SpotParams p;
  p.q = 1e-3;
  return p;
}

TelemanomParams ThresholdSettings::default_ndt_params() {
  TelemanomParams p;
  p.l_s = 0;
  return p;
}

ThresholdSettings threshold_settings(ThresholdMethod method, const std::optional<ThresholdDefaults>& model) {
  ThresholdSettings s;
  s.method = method;
  if (method == ThresholdMethod::Dspot) s.spot.depth = ThresholdSettings::kDspotDepth;
  if (!model) return s;
  if (method == ThresholdMethod::Static) s.value = model->value;
  if (model->spot_q) s.spot.q = *model->spot_q;
  if (model->spot_level) s.spot.level = *model->spot_level;
  if (model->spot_depth && method == ThresholdMethod::Dspot) s.spot.depth = static_cast<std::size_t>(*model->spot_depth);
  return s;
}

int64_t default_calibration_rows(int64_t scored_rows, const ThresholdSettings& settings) {
  const auto probation = static_cast<int64_t>(0.15 * static_cast<double>(scored_rows));
  switch (settings.method) {
    case ThresholdMethod::Ndt: return 0;
    case ThresholdMethod::Static: return settings.value ? 0 : std::max<int64_t>(probation, 1);
    case ThresholdMethod::Spot:
    case ThresholdMethod::Dspot:
      return std::max(probation, rows_for_peaks(settings.spot) + static_cast<int64_t>(settings.spot.depth));
  }
  return 0;
}

RowThresholds apply_threshold(std::span<const double> scores, const ThresholdSettings& settings) {
  RowThresholds out;
  out.threshold.assign(scores.size(), kNaN);
  out.flags.assign(scores.size(), 0);
  out.initial = kNaN;
  const auto scored = static_cast<int64_t>(std::count_if(scores.begin(), scores.end(), [](double v) { return !std::isnan(v); }));
  if (scored == 0) throw Error("threshold: no row has a score");
  if (settings.method == ThresholdMethod::Ndt) {
    apply_ndt(scores, settings.ndt, out);
  } else {
    const bool fixed = settings.method == ThresholdMethod::Static && settings.value;
    int64_t n_cal = 0;
    if (!fixed) {
      n_cal = settings.calibration_rows < 0 ? default_calibration_rows(scored, settings) : settings.calibration_rows;
      if (n_cal < 1 || n_cal >= scored)
        throw Error(std::string("threshold ") + threshold_method_name(settings.method) + ": calibration on " +
                    std::to_string(n_cal) + " scored rows must leave rows to judge, and " + std::to_string(scored) +
                    " rows have a score (choose 1 to " + std::to_string(scored - 1) +
                    " calibration rows, or another method)");
    }
    // The first n_cal scored rows calibrate; every later scored row is judged in order.
    std::vector<double> cal;
    cal.reserve(idx(n_cal));
    std::size_t r = 0;
    for (; r < scores.size() && static_cast<int64_t>(cal.size()) < n_cal; ++r)
      if (!std::isnan(scores[r])) cal.push_back(scores[r]);
    out.calibration_rows = n_cal;
    std::optional<Spot> spot;
    if (settings.method == ThresholdMethod::Static) {
      out.initial = settings.value ? threshold_fixed(*settings.value) : threshold_mean_std(cal, settings.k);
    } else {
      SpotParams p = settings.spot;
      if (settings.method == ThresholdMethod::Spot) p.depth = 0;
      else if (p.depth == 0) throw Error("threshold dspot: depth must be >= 1");
      spot.emplace(p);
      spot->calibrate(cal);
      out.initial = spot->threshold();
    }
    for (; r < scores.size(); ++r) {
      if (std::isnan(scores[r])) continue;
      if (spot) {
        out.threshold[r] = spot->threshold();  // the threshold in force before this row's step
        out.flags[r] = spot->step(scores[r]).is_alarm ? 1 : 0;
      } else {
        out.threshold[r] = out.initial;
        out.flags[r] = scores[r] > out.initial ? 1 : 0;
      }
    }
  }
  for (double t : out.threshold) out.judged_rows += std::isnan(t) ? 0 : 1;
  return out;
}

}  // namespace rnnad
