// Field case F29: constant or echoing model outputs (rnnad/output_diagnostics.h).
#include "rnnad/output_diagnostics.h"

#include <algorithm>
#include <cstdio>

namespace rnnad {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

/// The constant output of feature f in raw units (undoing the normalisation).
double raw_value(const NormalizationConfig& norm, int64_t f, double x) {
  if (norm.method == NormalizationConfig::Method::None) return x;
  return norm.center[static_cast<std::size_t>(f)] + norm.scale[static_cast<std::size_t>(f)] * x;
}

/// "output std 0, input std 0.943" over the features (the largest output std and the smallest input std).
std::string spreads(const OutputSpread& s) {
  double out = 0.0, in = -1.0;
  for (std::size_t f = 0; f < s.output.size(); ++f) {
    out = std::max(out, s.output[f].stddev());
    in = in < 0 ? s.input[f].stddev() : std::min(in, s.input[f].stddev());
  }
  return "output std " + num(out) + ", input std " + num(std::max(in, 0.0)) + " (normalised units" +
         (s.output.size() > 1 ? ", largest output and smallest input over " + std::to_string(s.output.size()) + " features)"
                              : ")");
}

}  // namespace

std::vector<std::string> diagnose_output_spread(const OutputSpread& spread, const ModelConfig& config,
                                                const std::vector<int64_t>& feature_index, const std::string& source) {
  std::vector<std::string> notes;
  static_assert(kConstantOutputStd == 1e-7, "the message below writes the bound as 1e-7");
  if (spread.windows < 2 || spread.output.empty()) return notes;
  const bool stateful = config.model_kind == ModelKind::Prediction &&
                        config.prediction.state == PredictionConfig::State::Stateful;
  const std::string across = std::to_string(spread.windows) + (stateful ? " predictions" : " windows");
  // Features whose input does not move (constant channels, F13) say nothing about the model.
  bool constant = true, flat = true, input_moves = false;
  for (std::size_t f = 0; f < spread.output.size(); ++f) {
    const double out = spread.output[f].stddev(), in = spread.input[f].stddev();
    constant = constant && out < kConstantOutputStd;
    if (in < kConstantOutputStd) continue;
    input_moves = true;
    flat = flat && out < kFlatOutputRatio * in;
  }
  constant = constant && input_moves;
  flat = flat && input_moves;
  if (constant) {
    std::string reduce = "scores depend on the input alone";
    const auto method = config.scoring.method;
    if (spread.output.size() == 1 &&
        (method == ScoringConfig::Method::Absolute || method == ScoringConfig::Method::Squared)) {
      // x in raw units; with a normalisation the error is (x - c) / scale.
      const NormalizationConfig& norm = config.normalization;
      const int64_t f = feature_index.front();
      const std::string c = num(raw_value(norm, f, spread.output.front().mean));
      const bool scaled = norm.method != NormalizationConfig::Method::None;
      const std::string scale = scaled ? num(norm.scale[static_cast<std::size_t>(f)]) : "";
      if (method == ScoringConfig::Method::Absolute)
        reduce = "scores reduce to |x - " + c + "|" + (scaled ? " / " + scale : "");
      else
        reduce = "scores reduce to " + (scaled ? "((x - " + c + ") / " + scale + ")^2" : "(x - " + c + ")^2");
    }
    notes.push_back(source + ": model output is constant across " + across + " (std < 1e-7); " + reduce + "; " + spreads(spread) +
                    ". The engine reproduces the model exactly: the model itself ignores its input (field case F29)");
  } else if (flat) {
    notes.push_back(source + ": model output is nearly constant across " + across + ": " + spreads(spread) +
                    "; the model barely follows its input, so its scores mostly measure the input's distance from "
                    "the output's level (field case F29)");
  }
  if (spread.echo.count >= 2 && spread.step.mean > 0 && spread.echo.mean < kEchoRatio * spread.step.mean)
    notes.push_back(source + ": the forecaster echoes its last input: mean |prediction - last input| " +
                    num(spread.echo.mean) + " vs mean |next - last input| " + num(spread.step.mean) +
                    " (normalised units, " + std::to_string(spread.echo.count) +
                    " predictions); its errors are the series' own steps (field case F29, khundman/telemanom#24)");
  return notes;
}

}  // namespace rnnad
