// Per-row scoring arithmetic (rnnad/score_row.h): the same operations, in the same order, as the
// batch Scorer (engine/src/scoring.cpp), so a stream's scores equal the batch scores bit for bit
// on equal model outputs.
#include "rnnad/score_row.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace rnnad {

namespace {

constexpr double kLog2Pi = 1.8378770664093454835606594728112;

// Quadratic form dᵀ Λ d of d = u − mean, with its per-component terms d_i (Λ d)_i.
double quadratic_terms(const ScoringConfig& s, const double* u, int64_t k, double* terms, double* d) {
  for (int64_t i = 0; i < k; ++i) d[i] = u[i] - s.mean[static_cast<std::size_t>(i)];
  double total = 0.0;
  for (int64_t i = 0; i < k; ++i) {
    const double* row = s.precision.data() + i * k;
    double q = 0.0;
    for (int64_t j = 0; j < k; ++j) q += row[j] * d[j];
    terms[i] = d[i] * q;
    total += terms[i];
  }
  return total;
}

}  // namespace

double normalize_value(const NormalizationConfig& norm, double raw, int64_t f) {
  return norm.method == NormalizationConfig::Method::None
             ? raw
             : (raw - norm.center[static_cast<std::size_t>(f)]) / norm.scale[static_cast<std::size_t>(f)];
}

double score_error_vector(const ScoringConfig& s, const double* e, const double* logvar, int64_t n, double* contrib,
                          double* work) {
  using Method = ScoringConfig::Method;
  switch (s.method) {
    case Method::Absolute:
    case Method::Squared: {
      double total = 0.0;
      for (int64_t f = 0; f < n; ++f) {
        contrib[f] = (s.method == Method::Absolute ? std::abs(e[f]) : e[f] * e[f]) / static_cast<double>(n);
        total += contrib[f];
      }
      return total;
    }
    case Method::GaussianNll: {
      double total = 0.0;
      for (int64_t f = 0; f < n; ++f) {
        contrib[f] = 0.5 * (kLog2Pi + logvar[f] + e[f] * e[f] * std::exp(-logvar[f]));
        total += contrib[f];
      }
      return total;
    }
    case Method::Mahalanobis: {
      for (int64_t f = 0; f < n; ++f) work[n + f] = std::abs(e[f]);
      return quadratic_terms(s, work + n, n, contrib, work);
    }
    case Method::LstmAd: break;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

double score_lstm_ad(const ScoringConfig& s, const double* u, int64_t d, int64_t horizon, double* contrib,
                     double* terms, double* work) {
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

void pool_window_score(ScoringConfig::Pooling pooling, bool first, double score, const double* contrib, int64_t n,
                       double& row_score, double* row_contrib) {
  if (first) {
    row_score = score;
    std::copy_n(contrib, n, row_contrib);
  } else if (pooling == ScoringConfig::Pooling::Mean) {
    row_score += score;
    for (int64_t f = 0; f < n; ++f) row_contrib[f] += contrib[f];
  } else if (pooling == ScoringConfig::Pooling::Last || score > row_score) {
    row_score = score;
    std::copy_n(contrib, n, row_contrib);
  }
}

}  // namespace rnnad
