// The per-row arithmetic of scoring (docs/scoring.md §1-§4) as free functions over one row: the
// normalisation of one value, the score and contributions of one error vector, LSTM-AD's
// likelihood score and the pooling of one window's score into a row. Used by StreamPool
// (rnnad/stream_pool.h) to score one sample at a time with exactly the Scorer's operations, so
// streaming equals batch. The arithmetic itself is rnnad/score_math.h (shared with the CUDA score
// kernels); these take a model's ScoringConfig. Sources: Malhotra et al. ESANN 2015 (LSTM-AD), arXiv 1607.00148
// (EncDec-AD), Hundman et al. KDD 2018 (Telemanom). Allocate nothing; float64 throughout.
#pragma once

#include <cstdint>

#include "rnnad/model.h"
#include "rnnad/score_math.h"

namespace rnnad {

/// x = (raw − center[f]) / scale[f] in float64 (docs/scoring.md §1), or raw for method None.
/// `f` must be a valid feature index; no check (hot path).
double normalize_value(const NormalizationConfig& norm, double raw, int64_t f);

/// Score of one error vector e [n] (signed errors, normalised units) for the methods absolute,
/// squared, gaussian_nll (logvar [n]: predicted natural-log variances, else unused) and
/// mahalanobis (n = k of scoring.mean); writes the per-feature contributions contrib [n].
/// work: scratch of at least 2·n doubles. Returns NaN for lstm_ad (use score_lstm_ad).
double score_error_vector(const ScoringConfig& scoring, const double* e, const double* logvar, int64_t n,
                          double* contrib, double* work);

/// LSTM-AD score ½[k ln 2π + log_det + (u − μ)ᵀ Λ (u − μ)] of the signed errors u [d·horizon]
/// (dimension-major: u[j·horizon + h]), and the contributions contrib [d] (target j: its
/// quadratic terms plus (k ln 2π + log_det)/(2d)). terms, work: scratch of k and 2·k doubles.
double score_lstm_ad(const ScoringConfig& scoring, const double* u, int64_t d, int64_t horizon, double* contrib,
                     double* terms, double* work);

/// The plain-pointer view of `scoring` that score_math.h's functions take (valid while it lives).
inline ScoreTerms score_terms(const ScoringConfig& scoring) {
  return {scoring.method, scoring.mean.data(), scoring.precision.data(), scoring.log_det};
}

/// Pools one window's score and contributions [n] into a row's running value (docs/scoring.md §4):
/// the first window (`first`) is copied; then mean sums (divide by the window count when the
/// row is final), max keeps the earliest highest score, last keeps the latest window.
void pool_window_score(ScoringConfig::Pooling pooling, bool first, double score, const double* contrib, int64_t n,
                       double& row_score, double* row_contrib);

}  // namespace rnnad
