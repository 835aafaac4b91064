// One threshold method applied to a whole score series with "no score" rows: the per-row
// threshold each row was compared with and the flags (docs/thresholds.md, "Applying a method to
// a series"). The methods themselves: threshold_static.h, telemanom.h, spot.h.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "rnnad/model.h"
#include "rnnad/spot.h"
#include "rnnad/telemanom.h"

namespace rnnad {

/// A threshold method with every parameter resolved.
struct ThresholdSettings {
  /// DSPOT's default drift window (spot.py's bidSPOT).
  static constexpr std::size_t kDspotDepth = 10;
  ThresholdMethod method = ThresholdMethod::Static;
  /// Static: the threshold (score units); absent = mean + k·std of the calibration rows.
  std::optional<double> value;
  double k = 4.0;  ///< static without a value
  /// SPOT / DSPOT (upper tail; DSPOT: depth >= 1). rnnad's defaults: q 1e-3, level 0.98, depth
  /// kDspotDepth for DSPOT, the other members as SpotParams.
  SpotParams spot = default_spot_params();
  /// NDT: Telemanom's defaults with l_s = 0 (a score series is not Telemanom's y_test: no warm-up
  /// overwrite, no rows ignored; the model's own warm-up rows have no score already).
  TelemanomParams ndt = default_ndt_params();
  /// Scored rows used to calibrate SPOT/DSPOT and a static threshold without a value: the first
  /// `calibration_rows` rows that have a score (never judged). -1 = default_calibration_rows().
  int64_t calibration_rows = -1;

  /// SpotParams with q = 1e-3 (the reference runs' and train.py's value), other members default.
  static SpotParams default_spot_params();
  /// TelemanomParams with l_s = 0, other members default.
  static TelemanomParams default_ndt_params();
};

/// rnnad's settings for `method` (the defaults above, DSPOT depth kDspotDepth), overlaid with what a model
/// file's threshold object gives (value, SPOT q/level/depth); `model` may be absent.
ThresholdSettings threshold_settings(ThresholdMethod method, const std::optional<ThresholdDefaults>& model);

/// Calibration rows used when ThresholdSettings::calibration_rows is -1, for `scored_rows` rows
/// with a score: 0 for NDT and for a static value; otherwise 15% of the scored rows (NAB's
/// probation period: rows a detector may learn from), raised for SPOT/DSPOT to the fewest rows
/// whose top (1 − level) share holds min_peaks peaks (plus depth for DSPOT), and for a static
/// threshold without value to at least 1.
int64_t default_calibration_rows(int64_t scored_rows, const ThresholdSettings& settings);

/// The outcome of apply_threshold.
struct RowThresholds {
  /// [rows] the threshold each row's score was compared with (score units); NaN where the row
  /// was not judged (no score, a calibration row, or one of NDT's ignored rows).
  std::vector<double> threshold;
  std::vector<uint8_t> flags;    ///< [rows] 1 = anomalous (never on a row without a score)
  int64_t calibration_rows = 0;  ///< scored rows used for calibration (the first ones)
  int64_t judged_rows = 0;       ///< rows with a threshold
  /// Static: the value used (also when fitted on the calibration rows); SPOT/DSPOT: the alarm
  /// threshold right after calibration; NDT: the ε of the first window. NaN when none.
  double initial = 0.0;
};

/// Applies `settings` to `scores` [rows] (NaN = no score):
/// - static: flags score > value (strict); without a value, value = mean + k·std of the first
///   calibration_rows scored rows, which are not judged;
/// - SPOT/DSPOT: calibrates on the first calibration_rows scored rows, then steps through the
///   other scored rows in order (a row's threshold is the one in force before its step; alarms
///   do not update the model);
/// - NDT: telemanom_detect on every run of consecutive scored rows (a NaN row ends a run); a
///   row's threshold is the ε of the window that judged it; NDT also flags the error_buffer rows
///   around a row above ε, and unusually low scores (inverse), as Telemanom does.
/// Throws Error when there are fewer scored rows than calibration needs plus one, and what the
/// methods throw (e.g. SPOT with too few peaks, field case F22; a bad parameter, named).
RowThresholds apply_threshold(std::span<const double> scores, const ThresholdSettings& settings);

}  // namespace rnnad
