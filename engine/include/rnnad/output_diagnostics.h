// Diagnostics of a model's outputs over a scored series, field case F29
// (../shared/docs/field_cases.md): a reconstruction that is the same for every window, a
// forecaster that echoes its last input. The engine reproduces such models exactly; these
// messages say so, with the numbers, so that nobody blames the engine (docs/cli.md, "Diagnostics").
#pragma once

#include <string>
#include <vector>

#include "rnnad/model.h"
#include "rnnad/scoring.h"

namespace rnnad {

/// Output spread below this (normalised units, every scored feature) counts as constant.
inline constexpr double kConstantOutputStd = 1e-7;
/// Output spread below this fraction of the input spread counts as nearly constant.
inline constexpr double kFlatOutputRatio = 0.01;
/// A forecaster whose mean distance from its last input is below this fraction of the series'
/// mean step echoes its input.
inline constexpr double kEchoRatio = 0.1;

/// One line per finding (empty when the outputs move with the inputs), each starting with
/// `source` (the model file):
/// - "model output is constant across 3 windows (std < 1e-7); scores reduce to |x - 0.42|" (a
///   one-feature absolute or squared score: the formula with the constant in raw units; else
///   "scores depend on the input alone"), followed by the output and input spreads;
/// - "model output is nearly constant: ..." when every scored feature's output std is below
///   kFlatOutputRatio times its input std;
/// - "the forecaster echoes its last input: ..." (prediction kind) when the mean |prediction −
///   last input| is below kEchoRatio times the mean |next − last input| (khundman/telemanom#24).
/// Spreads are in normalised units. Features whose input spread is below kConstantOutputStd
/// (constant channels) are left out of the comparisons; nothing is reported when no input moves
/// or for a spread of fewer than 2 windows.
std::vector<std::string> diagnose_output_spread(const OutputSpread& spread, const ModelConfig& config,
                                                const std::vector<int64_t>& feature_index, const std::string& source);

}  // namespace rnnad
