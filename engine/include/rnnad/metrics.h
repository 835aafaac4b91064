// Evaluation metrics against 0/1 labels: point-wise precision/recall/F1, point-adjusted F1
// (Xu et al. 2018) and PA%K (Kim et al. 2022), the ORACLE best F1 over all thresholds, average
// precision, and the random-score baseline printed next to them. Definitions, sources and
// conventions: docs/evaluation.md and ../shared/docs/algorithms.md §7.
//
// Conventions shared by every function here:
// - labels, predictions: [rows], 0 = normal, any nonzero = anomalous / flagged.
// - scores: [rows], higher = more anomalous; NaN = "no score" (e.g. warm-up rows): never
//   predicted anomalous at any threshold, but still counted through its label (an anomalous NaN
//   row is a false negative everywhere).
// - a row is predicted anomalous at threshold t iff score >= t (scikit-learn's convention).
// - a "segment" is a maximal run of anomalous labels (label_runs in rnnad/labels.h).
// - 0/0 is 0: precision with no prediction, recall with no anomalous label, F1 when P + R = 0.
//   No epsilon is added (OmniAnomaly's calc_point2point adds 1e-5 terms), and nothing is NaN.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "rnnad/labels.h"

namespace rnnad {

/// Point-wise counts and rates. precision = TP/(TP+FP), recall = TP/(TP+FN),
/// f1 = 2PR/(P+R); each is 0 when its denominator is 0.
struct Prf {
  double precision = 0.0;
  double recall = 0.0;
  double f1 = 0.0;
  int64_t tp = 0;
  int64_t fp = 0;
  int64_t fn = 0;
  int64_t tn = 0;
};

/// Precision/recall/F1 from counts, with the 0/0 = 0 convention above.
Prf prf_from_counts(int64_t tp, int64_t fp, int64_t fn, int64_t tn);

/// Point-wise precision/recall/F1 of `predictions` against `labels` (both [rows]).
/// Throws ShapeError when the lengths differ.
Prf point_prf(std::span<const uint8_t> predictions, std::span<const uint8_t> labels);

/// Event-wise precision/recall/F1 as Telemanom counts detected sequences (Hundman et al., KDD
/// 2018, Detector.evaluate_sequences; ../shared/docs/algorithms.md §1.11): a predicted event that
/// overlaps labelled segments marks the FIRST of them as detected (the reference's rule; a second
/// event on the same segment adds nothing), an event that overlaps none is a false positive.
/// tp = segments detected, fp = events overlapping no segment, fn = segments not detected,
/// tn = 0; precision = tp/(tp+fp), recall = tp/(tp+fn), 0/0 = 0. `events`, `segments`:
/// inclusive row ranges, each sorted by first row. O(events + segments).
Prf event_prf(std::span<const RowRange> events, std::span<const RowRange> segments);

/// Flags [rows]: 1 where scores[i] >= threshold (NaN never). Any threshold, ±infinity included.
std::vector<uint8_t> flags_at_threshold(std::span<const double> scores, double threshold);

/// Segment adjustment applied to predictions before point-wise counting.
/// - none: predictions are counted as they are.
/// - point-adjusted (PA, k_percent = 0): Xu et al., WWW 2018 (Donut), as OmniAnomaly's
///   adjust_predicts: if any row of a segment is predicted, every row of it counts as predicted.
/// - PA%K (0 <= k_percent <= 100): Kim et al., AAAI 2022 (tadpak `pak`): a segment of length L
///   is filled iff its number of predicted rows is > k_percent/100 · L (strict). K = 0 is PA,
///   K = 100 never fills (plain point-wise).
/// Rows outside segments are never changed.
struct Adjust {
  bool enabled = false;
  double k_percent = 0.0;
  static Adjust none() { return {}; }
  static Adjust point_adjust() { return {true, 0.0}; }
  static Adjust pa_k(double k_percent) { return {true, k_percent}; }
};

/// Adjusted predictions [rows] (see Adjust; `k_percent` in [0, 100], 0 = PA). Differences from
/// OmniAnomaly's adjust_predicts: a segment starting at row 0 is filled whole (its backward walk
/// stops before row 0) and the inputs are never modified. Throws ShapeError (lengths),
/// Error (k_percent outside [0, 100] or NaN).
std::vector<uint8_t> point_adjust(std::span<const uint8_t> predictions, std::span<const uint8_t> labels,
                                  double k_percent = 0.0);

/// point_prf after point_adjust(predictions, labels, k_percent): PA-F1 for k_percent = 0,
/// F1_PA%K otherwise. Same throws as point_adjust.
Prf adjusted_prf(std::span<const uint8_t> predictions, std::span<const uint8_t> labels, double k_percent = 0.0);

/// point_prf or adjusted_prf according to `adjust`.
Prf evaluate_predictions(std::span<const uint8_t> predictions, std::span<const uint8_t> labels, Adjust adjust);

/// F1 under PA%K for K = 0, step, 2·step, ..., 100, and the area under that curve (trapezoids
/// over K / 100, so in [0, 1]) — the summary Kim et al. (AAAI 2022) recommend reporting beside
/// plain F1. `step_percent` must divide 100 into at most 100 steps (e.g. 10).
struct PakCurve {
  std::vector<double> k_percent{};
  std::vector<double> f1{};
  double auc = 0.0;
};
/// Throws ShapeError (lengths), Error (step_percent not in [1, 100] or not dividing 100).
PakCurve pak_curve(std::span<const uint8_t> predictions, std::span<const uint8_t> labels, double step_percent = 10.0);

/// Result of best_f1_oracle: the best threshold and the counts there.
struct BestF1 {
  double threshold = 0.0;  ///< flags_at_threshold(scores, threshold) reproduces `at_best`
  Prf at_best{};
};

/// ORACLE: the highest F1 over every threshold, found by LOOKING AT THE LABELS. It is an upper
/// bound of what any threshold rule can reach, never a result a deployed detector would get;
/// report it as "best-F1 (oracle)". Candidate thresholds are the distinct non-NaN scores (each
/// flags score >= t); with `adjust` the F1 is PA-F1 / F1_PA%K at each threshold (the bf_search
/// of OmniAnomaly, but over every distinct score instead of a fixed grid). Ties keep the highest
/// threshold. If no threshold gives F1 > 0 (e.g. no anomalous label), threshold is +infinity
/// and at_best the counts of flags_at_threshold(scores, +infinity). O(rows log rows).
/// Throws ShapeError (lengths), Error (bad k_percent).
BestF1 best_f1_oracle(std::span<const double> scores, std::span<const uint8_t> labels, Adjust adjust = Adjust::none());

/// Average precision (area under the precision-recall curve, step-wise), exactly as
/// scikit-learn's average_precision_score: AP = Σ_n (R_n − R_{n−1}) · P_n over the distinct
/// non-NaN scores in decreasing order (threshold score >= t_n), R_0 = 0. No interpolation.
/// Anomalous NaN rows count in the recall denominator (recall never reaches 1). 0 when there is
/// no anomalous label (scikit-learn warns and returns a degenerate value instead).
/// Throws ShapeError (lengths).
double average_precision(std::span<const double> scores, std::span<const uint8_t> labels);

/// Uniform random scores in [0, 1), one per row of `like`, NaN exactly where `like` is NaN (so
/// a baseline sees the same "no score" rows as the model). Deterministic for a seed on every
/// platform: std::mt19937_64(seed), u = (x >> 11) · 2^-53.
std::vector<double> random_uniform_scores(std::span<const double> like, uint64_t seed);

/// The same metric computed on seeded random scores: mean, min and max over seeds
/// first_seed, first_seed+1, ... .
struct RandomBaseline {
  double mean = 0.0;
  double min = 0.0;
  double max = 0.0;
  int seeds = 0;
};

/// Evaluates `metric` on random_uniform_scores(like, seed) for `seeds` seeds. The metric gets
/// the random scores and must choose its threshold itself (e.g. best_f1_oracle, or the same
/// number of flagged rows as the model). Print it beside the model's value:
/// "PA-F1 0.91 (random scores: 0.88)" — point adjustment lets random scores score high on
/// datasets with long segments (docs/evaluation.md). Throws Error when seeds < 1.
RandomBaseline random_score_baseline(std::span<const double> like,
                                     const std::function<double(std::span<const double>)>& metric, int seeds = 5,
                                     uint64_t first_seed = 1);

/// random_score_baseline of best_f1_oracle(random, labels, adjust).at_best.f1: the baseline for
/// an oracle best-F1 / best-PA-F1 / best-F1_PA%K. Throws ShapeError, Error.
RandomBaseline random_best_f1_baseline(std::span<const double> like, std::span<const uint8_t> labels, Adjust adjust,
                                       int seeds = 5, uint64_t first_seed = 1);

/// random_score_baseline of the F1 (under `adjust`) when the random scores flag exactly
/// `flagged_rows` rows (the highest ones; the model's flag count at its own threshold): the
/// baseline for a fixed-threshold F1 / PA-F1. Throws ShapeError, Error (flagged_rows < 0 or
/// more than the non-NaN rows).
RandomBaseline random_f1_at_flag_count_baseline(std::span<const double> like, std::span<const uint8_t> labels,
                                                int64_t flagged_rows, Adjust adjust, int seeds = 5,
                                                uint64_t first_seed = 1);

}  // namespace rnnad
