// The threshold options of `rnnad detect` and where each setting comes from: the command line,
// the model file's `threshold` object, or rnnad's defaults (docs/cli.md, "Thresholds").
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rnnad/model.h"
#include "rnnad/threshold_apply.h"

namespace rnnad::cli {

/// Values given on the command line (absent = not given).
struct ThresholdOptions {
  std::string method;  ///< static, ndt, spot, dspot; "" = the model's default
  std::optional<double> value;
  std::optional<int64_t> calibration_rows;
  std::optional<double> spot_q, spot_level;
  std::optional<int64_t> spot_depth;
  std::string ndt_mode;  ///< batch, sliding; "" = batch
  std::string spot_few_peaks;  ///< error, fallback (SpotParams::few_peaks); "" = error

  /// Registers --threshold, --threshold-value, --calibration-rows, --spot-q, --spot-level,
  /// --spot-depth, --ndt-mode and --spot-few-peaks on `app` (group "Threshold"). A choice outside
  /// its set or a number that is not finite is a usage error naming the option and the value.
  void add_to(CLI::App& app);
};

/// The resolved settings and a one-line account of them.
struct ThresholdChoice {
  ThresholdSettings settings;
  /// e.g. "static, threshold 0.421907 (model file, calibrated \"max_f1_injected\"); method: the
  /// model file's default". Completed after the run by describe_run().
  std::string description;
  /// Options that do not apply to the chosen method (ignored), one line each.
  std::vector<std::string> notes;
};

/// Resolves the options against the model's defaults (command line > model file > rnnad).
/// Options that do not apply to the method are ignored with a note (e.g. --spot-q with static);
/// throws Error naming the option for a value out of range (--spot-q outside (0, 1 − level)), and
/// for SPOT/DSPOT with --calibration-rows below what the level needs for min_peaks peaks
/// (default_calibration_rows; 501 at level 0.98) unless --spot-few-peaks fallback.
ThresholdChoice resolve_threshold(const ThresholdOptions& options, const ModelConfig& model);

/// What the run added: the calibration rows and the threshold right after calibration, e.g.
/// "calibrated on the first 3394 scored rows (rnnad default: 15% of them, at least 550);
/// threshold after calibration 0.61". Empty for a fixed static value.
std::string describe_run(const ThresholdSettings& settings, const RowThresholds& result, bool calibration_given);

/// A model file's threshold defaults for `rnnad inspect`, e.g. "static 0.421907 (calibration
/// max_f1_injected); SPOT q 0.001, level 0.98".
std::string describe_defaults(const ThresholdDefaults& defaults);

}  // namespace rnnad::cli
