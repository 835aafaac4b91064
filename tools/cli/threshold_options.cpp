// Threshold options and their provenance (threshold_options.h).
#include "threshold_options.h"

#include <vector>

#include "option_checks.h"
#include "rnnad/error.h"
#include "text.h"

namespace rnnad::cli {
namespace {

ThresholdMethod parse_method(const std::string& text) {
  for (ThresholdMethod m : {ThresholdMethod::Static, ThresholdMethod::Ndt, ThresholdMethod::Spot, ThresholdMethod::Dspot})
    if (text == threshold_method_name(m)) return m;
  throw Error("--threshold: unknown method '" + text + "' (expected static, ndt, spot or dspot)");
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

/// "q 0.001 (model file)" with the origin of a setting.
template <class T>
std::string setting(const std::string& name, const std::optional<T>& cli, const std::string& flag,
                    const std::optional<T>& model, T fallback) {
  if (cli) return name + " " + num(static_cast<double>(*cli)) + " (" + flag + ")";
  if (model) return name + " " + num(static_cast<double>(*model)) + " (model file)";
  return name + " " + num(static_cast<double>(fallback)) + " (rnnad default)";
}

}  // namespace

void ThresholdOptions::add_to(CLI::App& app) {
  const std::string g = "Threshold";
  app.add_option("--threshold", method, "static, ndt (Telemanom), spot or dspot (default: the model file's method)")
      ->check(one_of({"static", "ndt", "spot", "dspot"}))
      ->group(g);
  app.add_option("--threshold-value", value, "static: the threshold in score units (default: the model file's value)")
      ->check(finite_number())
      ->group(g);
  app.add_option("--calibration-rows", calibration_rows,
                 "spot, dspot, static without a value: calibrate on the first N scored rows "
                 "(default: 15% of them, at least what SPOT needs for its peaks)")
      ->check(CLI::PositiveNumber)
      ->group(g);
  app.add_option("--spot-q", spot_q, "spot, dspot: risk q, in (0, 1 - level) (default: the model file's, else 1e-3)")
      ->check(finite_number())
      ->group(g);
  app.add_option("--spot-level", spot_level, "spot, dspot: initial-threshold level in [0, 1) (default: the model file's, else 0.98)")
      ->check(finite_number())
      ->group(g);
  app.add_option("--spot-depth", spot_depth, "dspot: drift window in rows (default: the model file's, else 10)")
      ->check(CLI::PositiveNumber)
      ->group(g);
  app.add_option("--ndt-mode", ndt_mode, "ndt: batch (Telemanom's windows) or sliding (default: batch)")
      ->check(one_of({"batch", "sliding"}))
      ->group(g);
  app.add_option("--spot-few-peaks", spot_few_peaks,
                 "spot, dspot: fewer than 10 calibration peaks above the initial threshold: error, or fallback (alarm "
                 "threshold = the calibration maximum until 10 peaks have streamed in) (default: error)")
      ->check(one_of({"error", "fallback"}))
      ->group(g);
}

ThresholdChoice resolve_threshold(const ThresholdOptions& o, const ModelConfig& model) {
  const std::optional<ThresholdDefaults>& d = model.threshold;
  ThresholdChoice c;
  std::string method_origin;
  ThresholdMethod method = ThresholdMethod::Static;
  if (!o.method.empty()) {
    method = parse_method(o.method);
    method_origin = "--threshold";
  } else if (d) {
    method = d->method;
    method_origin = "the model file's default";
  } else {
    method_origin = "rnnad default: the model file has no threshold";
  }
  c.settings = threshold_settings(method, d);
  ThresholdSettings& s = c.settings;
  if (o.value) s.value = o.value;
  if (o.calibration_rows) s.calibration_rows = *o.calibration_rows;
  if (o.spot_level) s.spot.level = *o.spot_level;
  if (o.spot_q) s.spot.q = *o.spot_q;
  if (o.spot_depth && method == ThresholdMethod::Dspot) s.spot.depth = static_cast<std::size_t>(*o.spot_depth);
  if (o.ndt_mode == "sliding") s.ndt.mode = TelemanomMode::Sliding;
  if (o.spot_few_peaks == "fallback") s.spot.few_peaks = SpotFewPeaks::Fallback;
  const bool spot = method == ThresholdMethod::Spot || method == ThresholdMethod::Dspot;
  auto ignored = [&](bool given, const char* flag) {
    if (given) c.notes.push_back(std::string(flag) + " is ignored by --threshold " + threshold_method_name(method));
  };
  ignored(o.value.has_value() && method != ThresholdMethod::Static, "--threshold-value");
  ignored(o.calibration_rows.has_value() && (method == ThresholdMethod::Ndt || (method == ThresholdMethod::Static && s.value)),
          "--calibration-rows");
  ignored((o.spot_q || o.spot_level) && !spot, "--spot-q/--spot-level");
  ignored(o.spot_depth.has_value() && method != ThresholdMethod::Dspot, "--spot-depth");
  ignored(!o.ndt_mode.empty() && method != ThresholdMethod::Ndt, "--ndt-mode");
  ignored(!o.spot_few_peaks.empty() && !spot, "--spot-few-peaks");
  if (spot) {
    if (!(s.spot.level >= 0 && s.spot.level < 1)) throw Error("--spot-level " + num(s.spot.level) + " must lie in [0, 1)");
    if (!(s.spot.q > 0 && s.spot.q < 1 - s.spot.level))
      throw Error("--spot-q " + num(s.spot.q) + " must lie in (0, 1 - level) = (0, " + num(1 - s.spot.level) + ")");
    // Fewer calibration rows than the level needs for min_peaks peaks fail in SPOT's calibration
    // (field case F22) after the model ran; say so now, in the options a CLI user has.
    const int64_t needed = default_calibration_rows(1, s);
    if (o.calibration_rows && *o.calibration_rows < needed && s.spot.few_peaks == SpotFewPeaks::Error)
      throw Error("--calibration-rows " + std::to_string(*o.calibration_rows) + ": " + threshold_method_name(method) +
                  " at level " + num(s.spot.level) + " needs at least " + std::to_string(needed) +
                  " calibration rows (" + std::to_string(s.spot.min_peaks) + " peaks above the initial threshold" +
                  (method == ThresholdMethod::Dspot ? ", plus depth " + std::to_string(s.spot.depth) : "") +
                  "); give at least " + std::to_string(needed) +
                  ", a lower --spot-level, or --spot-few-peaks fallback");
  }

  std::vector<std::string> parts;
  const auto model_q = d ? d->spot_q : std::nullopt;
  const auto model_level = d ? d->spot_level : std::nullopt;
  switch (method) {
    case ThresholdMethod::Static:
      if (o.value) parts.push_back("threshold " + num(*o.value) + " (--threshold-value)");
      else if (s.value)
        parts.push_back("threshold " + num(*s.value) + " (model file" +
                        (d && !d->calibration.empty() ? ", calibrated \"" + d->calibration + "\"" : std::string()) + ")");
      else parts.push_back("threshold = mean + " + num(s.k) + " std of the calibration rows (rnnad default: no value given)");
      break;
    case ThresholdMethod::Spot:
    case ThresholdMethod::Dspot:
      parts.push_back(setting("q", o.spot_q, "--spot-q", model_q, ThresholdSettings::default_spot_params().q));
      parts.push_back(setting("level", o.spot_level, "--spot-level", model_level, ThresholdSettings::default_spot_params().level));
      if (method == ThresholdMethod::Dspot)
        parts.push_back(setting<int64_t>("depth", o.spot_depth, "--spot-depth", d ? d->spot_depth : std::nullopt,
                                         static_cast<int64_t>(ThresholdSettings::kDspotDepth)));
      parts.push_back("upper tail, at least " + std::to_string(s.spot.min_peaks) + " calibration peaks" +
                      (s.spot.few_peaks == SpotFewPeaks::Fallback
                           ? " (fewer: the calibration maximum until they have streamed in, --spot-few-peaks)"
                           : ""));
      break;
    case ThresholdMethod::Ndt: {
      const TelemanomParams& p = s.ndt;
      parts.push_back("Telemanom's defaults: batch " + std::to_string(p.batch_size) + ", window " +
                      std::to_string(p.window_size) + " batches (" + std::to_string(p.batch_size * p.window_size) +
                      " rows), smoothing " + num(p.smoothing_perc) + ", error buffer " + std::to_string(p.error_buffer) +
                      ", p " + num(p.p) + ", low scores too (inverse), l_s 0 (rnnad default)");
      parts.push_back(std::string("mode ") + (p.mode == TelemanomMode::Sliding ? "sliding (--ndt-mode)" : "batch (rnnad default)"));
      break;
    }
  }
  c.description = std::string(threshold_method_name(method)) + " (" + method_origin + "): " + join(parts);
  return c;
}

std::string describe_run(const ThresholdSettings& s, const RowThresholds& r, bool calibration_given) {
  if (s.method == ThresholdMethod::Ndt) return "first window's threshold " + num(r.initial);
  if (r.calibration_rows == 0) return "";
  const std::string origin =
      calibration_given ? "--calibration-rows"
                        : std::string("rnnad default: 15% of the scored rows") +
                              (s.method == ThresholdMethod::Static ? "" : ", at least enough for the peaks");
  const std::string rows = "the first " + count(r.calibration_rows, "scored row") + " (" + origin + ")";
  return s.method == ThresholdMethod::Static ? "fitted on " + rows + ": " + num(r.initial)
                                             : "calibrated on " + rows + "; threshold after calibration " + num(r.initial);
}

std::string describe_defaults(const ThresholdDefaults& d) {
  std::string out = threshold_method_name(d.method);
  if (d.value) out += " " + num(*d.value);
  if (!d.calibration.empty()) out += " (calibration " + d.calibration + ")";
  std::vector<std::string> spot;
  if (d.spot_q) spot.push_back("q " + num(*d.spot_q));
  if (d.spot_level) spot.push_back("level " + num(*d.spot_level));
  if (d.spot_depth) spot.push_back("depth " + std::to_string(*d.spot_depth));
  if (!spot.empty()) out += "; SPOT " + join(spot);
  return out;
}

}  // namespace rnnad::cli
