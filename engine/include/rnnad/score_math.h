// The arithmetic of one score (docs/scoring.md §2-§4), written once for the host (Scorer,
// StreamPool through rnnad/score_row.h) and the CUDA score kernels (kernels/score_kernels.cuh):
// plain pointers and no allocation, so nvcc compiles the same functions as __host__ __device__.
// Sources: Malhotra et al. ESANN 2015 (LSTM-AD), arXiv 1607.00148 (EncDec-AD), Hundman et al.
// KDD 2018 (Telemanom). Float64 throughout.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define RNNAD_HOST_DEVICE __host__ __device__
#else
#define RNNAD_HOST_DEVICE
#endif

namespace rnnad {

/// How an error vector becomes a score (`scoring.method`, docs/scoring.md §2).
enum class ScoreMethod { Absolute, Squared, GaussianNll, Mahalanobis, LstmAd };
/// How the scores of overlapping windows combine into a row's score (`scoring.pooling`, §4).
enum class ScorePooling { Mean, Max, Last };

/// What one score needs from a model's `scoring` settings, as plain pointers (host or device):
/// mean [k] and precision [k, k] row-major for mahalanobis and lstm_ad, else unused.
struct ScoreTerms {
  ScoreMethod method = ScoreMethod::Absolute;
  const double* mean = nullptr;
  const double* precision = nullptr;
  double log_det = 0.0;  ///< ln|Σ + λI| (lstm_ad)
};

inline constexpr double kLog2Pi = 1.8378770664093454835606594728112;

/// Quadratic form dᵀ Λ d of d = u − mean [k], with its per-component terms terms[i] = d_i (Λ d)_i;
/// d: scratch of k doubles.
RNNAD_HOST_DEVICE inline double quadratic_terms(const ScoreTerms& s, const double* u, int64_t k, double* terms,
                                                double* d) {
  for (int64_t i = 0; i < k; ++i) d[i] = u[i] - s.mean[i];
  double total = 0.0;
  for (int64_t i = 0; i < k; ++i) {
    const double* row = s.precision + i * k;
    double q = 0.0;
    for (int64_t j = 0; j < k; ++j) q += row[j] * d[j];
    terms[i] = d[i] * q;
    total += terms[i];
  }
  return total;
}

/// Score of one error vector e [n] (signed errors, normalised units) for absolute, squared,
/// gaussian_nll (logvar [n]: predicted natural-log variances, else unused) and mahalanobis
/// (n = k of the mean); writes the per-feature contributions contrib [n], which sum to the score.
/// work: scratch of 2·n doubles. Returns NaN for lstm_ad (see score_lstm_ad).
RNNAD_HOST_DEVICE inline double score_error_vector(const ScoreTerms& s, const double* e, const double* logvar,
                                                   int64_t n, double* contrib, double* work) {
  switch (s.method) {
    case ScoreMethod::Absolute:
    case ScoreMethod::Squared: {
      double total = 0.0;
      for (int64_t f = 0; f < n; ++f) {
        contrib[f] = (s.method == ScoreMethod::Absolute ? fabs(e[f]) : e[f] * e[f]) / static_cast<double>(n);
        total += contrib[f];
      }
      return total;
    }
    case ScoreMethod::GaussianNll: {
      double total = 0.0;
      for (int64_t f = 0; f < n; ++f) {
        contrib[f] = 0.5 * (kLog2Pi + logvar[f] + e[f] * e[f] * exp(-logvar[f]));
        total += contrib[f];
      }
      return total;
    }
    case ScoreMethod::Mahalanobis: {
      for (int64_t f = 0; f < n; ++f) work[n + f] = fabs(e[f]);
      return quadratic_terms(s, work + n, n, contrib, work);
    }
    case ScoreMethod::LstmAd:
      break;
  }
  return NAN;
}

/// LSTM-AD score ½[k ln 2π + log_det + (u − μ)ᵀ Λ (u − μ)] of the signed errors u [d·horizon]
/// (dimension-major: u[j·horizon + h]), and the contributions contrib [d] (target j: its
/// quadratic terms plus (k ln 2π + log_det)/(2d)). terms, work: scratch of k and k doubles.
RNNAD_HOST_DEVICE inline double score_lstm_ad(const ScoreTerms& s, const double* u, int64_t d, int64_t horizon,
                                              double* contrib, double* terms, double* work) {
  const int64_t k = d * horizon;
  const double quad = quadratic_terms(s, u, k, terms, work);
  const double constant = 0.5 * (static_cast<double>(k) * kLog2Pi + s.log_det);
  for (int64_t j = 0; j < d; ++j) {
    double c = constant / static_cast<double>(d);
    for (int64_t h = 0; h < horizon; ++h) c += 0.5 * terms[j * horizon + h];
    contrib[j] = c;
  }
  return 0.5 * quad + constant;
}

/// One window's pooled value of a row (docs/scoring.md §4): `x` is the window's score or one of
/// its contributions, `v` the row's value so far, `score`/`row_score` the window's and the row's
/// scores (they decide max). The first window (`first`) is copied; then mean sums (the caller
/// divides by the window count when the row is final), max keeps the earliest highest score, last
/// keeps the latest window.
RNNAD_HOST_DEVICE inline double pool_value(ScorePooling pooling, bool first, double score, double row_score, double x,
                                           double v) {
  if (first) return x;
  if (pooling == ScorePooling::Mean) return v + x;
  return pooling == ScorePooling::Last || score > row_score ? x : v;
}

/// Count, mean and population spread of a stream of values (Welford's update, float64).
struct RunningStats {
  int64_t count = 0;
  double mean = 0.0;
  double m2 = 0.0;  ///< sum of squared deviations from the mean
  /// Adds one value.
  RNNAD_HOST_DEVICE void add(double v) {
    ++count;
    const double d = v - mean;
    mean += d / static_cast<double>(count);
    m2 += d * (v - mean);
  }
  /// Adds the values `other` counted (Chan et al.'s pairwise combination).
  RNNAD_HOST_DEVICE void merge(const RunningStats& other) {
    if (other.count == 0) return;
    if (count == 0) {
      *this = other;
      return;
    }
    const double n = static_cast<double>(count), m = static_cast<double>(other.count), d = other.mean - mean;
    mean += d * m / (n + m);
    m2 += other.m2 + d * d * n * m / (n + m);
    count += other.count;
  }
  /// Population standard deviation (0 for fewer than 2 values).
  double stddev() const { return count < 2 ? 0.0 : std::sqrt(m2 / static_cast<double>(count)); }
};

}  // namespace rnnad
