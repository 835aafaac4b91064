// NAB scoring (Lavin & Ahmad, "Evaluating Real-time Anomaly Detection Algorithms — the Numenta
// Anomaly Benchmark", ICMLA 2015; numenta/NAB nab/sweeper.py, runner.normalize,
// config/profiles.json). Specification: ../shared/docs/algorithms.md §7.3; docs/evaluation.md.
//
// Input per file: binary detections per row (already thresholded) and the NAB anomaly windows
// as inclusive row ranges (nab_windows_to_rows in rnnad/labels.h maps combined_windows.json).
// NAB's own threshold optimisation over the corpus is not part of this: the caller picks the
// threshold (and must say how, since tuning it on the labels is an oracle).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rnnad/labels.h"

namespace rnnad {

/// One NAB application profile (cost matrix of config/profiles.json; tnWeight is unused).
struct NabProfile {
  const char* name = "";
  double tp_weight = 1.0;
  double fp_weight = 0.11;
  double fn_weight = 1.0;
};

/// NAB's three profiles, in this order: standard (1.0, 0.11, 1.0), reward_low_FP_rate
/// (1.0, 0.22, 1.0), reward_low_FN_rate (1.0, 0.11, 2.0) as (tp, fp, fn) weights.
const std::array<NabProfile, 3>& nab_profiles();

/// NAB's probation fraction: the first 15% of each file (at most 750 rows) are not scored.
inline constexpr double kNabProbationPercent = 0.15;

/// NAB's scaled sigmoid: 2/(1 + e^{5y}) − 1 for y < 3, −1 for y >= 3. S(−1) = 0.98661 (the
/// largest TP reward), S(0) = 0, S(1) = −0.98661.
double nab_scaled_sigmoid(double y);

/// Rows of a file of `rows` rows that NAB ignores: rows i < min(floor(p·rows), p·5000), computed
/// in double as NAB's Sweeper does (p = probation_fraction). Returns that bound (fractional when
/// p·5000 is). Throws Error unless 0 <= p < 1.
double nab_probation_length(int64_t rows, double probation_fraction = kNabProbationPercent);

/// NAB's per-row weighted sweep score for a file of `rows` rows (Sweeper.calcSweepScore):
///   inside window [l, r] of width w = r − l + 1, at row i:  S(−(r − i + 1)/w) · A_TP / S(−1)
///   outside, before the first window:                        −A_FP   (S(3) = −1)
///   outside, after window [l', r'] (the latest that ended):  S(|i − r'| / (w' − 1)) · A_FP
/// Deviation: NAB divides by zero when w' = 1; rnnad then uses S(+inf) = −1 (full penalty).
/// `windows`: sorted, non-overlapping, inside [0, rows). Throws Error otherwise (naming the
/// window). Returns [rows].
std::vector<double> nab_sweep_scores(int64_t rows, std::span<const RowRange> windows, const NabProfile& profile);

/// One file to score.
struct NabFileInput {
  std::string name{};                     ///< for messages and the per-file results
  std::span<const uint8_t> detections{};  ///< [rows] nonzero = the detector fired at this row
  std::span<const RowRange> windows{};    ///< NAB windows of this file, as rows
};

/// Score of one file under one profile. Counts are rows (as NAB reports them), probation rows
/// excluded.
struct NabFileScore {
  std::string name{};
  double raw = 0.0;
  int64_t windows_counted = 0;   ///< windows with at least one row after probation
  int64_t windows_detected = 0;  ///< of those, windows with a detection after probation
  int64_t tp = 0;                ///< detected rows inside windows
  int64_t fp = 0;                ///< detected rows outside windows
  int64_t fn = 0;                ///< undetected rows inside windows
  int64_t tn = 0;                ///< undetected rows outside windows
};

/// Scores one file (Sweeper.calcScoreByThreshold at a given threshold): over rows not in
/// probation,
///   raw = Σ_counted windows ( max sweep score of its detected rows, or −A_FN if none )
///       + Σ_detected rows outside windows  sweep score
/// so only the earliest detection in a window counts, later ones are neither rewarded nor
/// penalised, and every false-positive row is penalised. A window whose rows are all in
/// probation is not counted. Throws ShapeError/Error as nab_sweep_scores.
NabFileScore nab_score_file(const NabFileInput& file, const NabProfile& profile,
                            double probation_fraction = kNabProbationPercent);

/// Corpus score under one profile, normalised between the null detector and a perfect one on
/// the same files (runner.normalize):
///   raw_perfect = A_TP · W,  raw_null = −A_FN · W      (W = counted windows over all files)
///   normalized  = 100 · (raw − raw_null) / (raw_perfect − raw_null)
/// raw_null is the score of flagging nothing, which is what NAB's null detector gets at its
/// optimised threshold; a perfect detector fires once, at each window's first row (so 100 needs
/// every counted window's first row to be after probation, which NAB's labeller guarantees).
struct NabProfileScore {
  NabProfile profile{};
  double raw = 0.0;
  double raw_null = 0.0;
  double raw_perfect = 0.0;
  std::optional<double> normalized{};  ///< empty when W = 0 (no window to normalise by)
  std::vector<NabFileScore> files{};
};

/// Scores `files` under one profile. Throws ShapeError/Error as nab_sweep_scores.
NabProfileScore nab_score(std::span<const NabFileInput> files, const NabProfile& profile,
                          double probation_fraction = kNabProbationPercent);

/// Scores `files` under the three profiles of nab_profiles(), in that order.
std::array<NabProfileScore, 3> nab_score_all_profiles(std::span<const NabFileInput> files,
                                                      double probation_fraction = kNabProbationPercent);

}  // namespace rnnad
