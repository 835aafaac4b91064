// Static thresholds for anomaly scores: a fixed value, a percentile of validation scores, or
// mean + k·std of validation scores; and the flag rule score > threshold. Documentation, with
// the field cases they answer (F12: a constant score series): docs/thresholds.md, "Static
// thresholds".
//
// "No score" rows: in rnnad score series NaN means "no score" (e.g. warm-up rows before the
// first full window). Such rows are never flagged and never enter a statistic: every function
// here skips them. ±infinity is a value, not "no score": it is flagged when above the
// threshold, but rejected when fitting a threshold (it would make the threshold infinite).
//
// The statistics are numpy's, bit for bit (numpy 1.24: pairwise summation, buffers of 8192,
// nanmean, nanstd with ddof = 0, nanpercentile with the default linear method), so thresholds
// computed here equal those of the Python tools up to the last bit, with one deliberate
// exception: a series whose scores are all equal gives mean = that value and std = 0 exactly
// (numpy can be one unit in the last place off in both).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace rnnad {

/// Count, mean and population standard deviation of the scores that carry a value.
struct ScoreStats {
  int64_t count = 0;    ///< rows with a score (not NaN)
  double mean = 0.0;    ///< in score units
  double stddev = 0.0;  ///< population (ddof = 0), in score units, >= 0
};

/// numpy's nanmean / nanstd(ddof = 0) of `scores` [n]: NaN rows are skipped. count = 0 gives
/// mean = stddev = 0; all scores equal gives mean = that value, stddev = 0 exactly. Allocates
/// nothing. Throws rnnad::Error naming the row of the first ±infinity.
ScoreStats score_stats(std::span<const double> scores);

/// The q-th percentile (q in percent, 0..100) of the scores that are not NaN: numpy's
/// nanpercentile with its default linear method, i.e. with the n values sorted ascending,
/// position i = (n − 1)·q/100, lo = floor(i), t = i − lo, result = lerp(v[lo], v[lo+1], t)
/// (numpy's lerp: v[lo] + (v[lo+1] − v[lo])·t, or v[lo+1] − (v[lo+1] − v[lo])·(1 − t) when
/// t >= 0.5). O(n) expected time, O(n) scratch. Throws rnnad::Error when q is not in [0, 100],
/// when no row has a score, or naming the row of the first ±infinity.
double score_percentile(std::span<const double> scores, double q);

/// Several percentiles of the same scores with one copy (same rules as score_percentile).
std::vector<double> score_percentiles(std::span<const double> scores, std::span<const double> q);

/// Which static rule `fit_static_threshold` applies.
enum class StaticRule {
  Fixed,     ///< threshold = value
  Quantile,  ///< threshold = score_percentile(validation scores, q)
  MeanStd,   ///< threshold = mean + k·std of the validation scores (population std)
};

/// Settings of a static threshold. Defaults: mean + 4·std.
struct StaticThresholdParams {
  StaticRule rule = StaticRule::MeanStd;
  double value = 0.0;  ///< Fixed: the threshold (finite), in score units
  double q = 99.0;     ///< Quantile: percentile in percent, in [0, 100]
  double k = 4.0;      ///< MeanStd: number of standard deviations (finite; may be negative)
};

/// A fixed threshold: returns `value`. Throws rnnad::Error naming `value` when it is not finite.
double threshold_fixed(double value);

/// The q-th percentile (percent) of the validation scores (NaN rows skipped), see
/// score_percentile. Throws rnnad::Error when q is outside [0, 100], when no row has a score
/// ("validation_scores has no score: all N rows are NaN"), or naming a row holding ±infinity.
double threshold_quantile(std::span<const double> validation_scores, double q);

/// mean + k·std of the validation scores (NaN rows skipped; population std). When every score
/// is equal (std = 0, field case F12) the threshold is exactly that value, and since flagging
/// is strict (score > threshold) the baseline itself is never flagged. Throws rnnad::Error
/// naming `k` when it is not finite, when no row has a score, or naming a row holding ±infinity.
double threshold_mean_std(std::span<const double> validation_scores, double k);

/// Applies `params.rule` (threshold_fixed / threshold_quantile / threshold_mean_std; the scores
/// are ignored for Fixed). Throws what the chosen rule throws.
double fit_static_threshold(std::span<const double> validation_scores, const StaticThresholdParams& params = {});

/// Flags: out[i] = 1 when scores[i] > threshold (strict), else 0; a NaN ("no score") row is
/// never flagged; +infinity is flagged by any finite threshold. The result suits
/// EventInputs::flags (rnnad/events.h). `threshold` may be ±infinity (+inf flags nothing).
/// Throws rnnad::Error naming `threshold` when it is NaN. Allocates the result only.
std::vector<uint8_t> flag_scores(std::span<const double> scores, double threshold);

/// Number of rows flag_scores would flag (no allocation).
int64_t count_flagged(std::span<const double> scores, double threshold);

}  // namespace rnnad
