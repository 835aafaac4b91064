// Per-row scoring (rnnad/score_row.h) over a model's ScoringConfig: the arithmetic is
// rnnad/score_math.h, the same functions the batch Scorer (engine/src/scoring.cpp) and the CUDA
// score kernels call, so a stream's scores equal the batch scores bit for bit on equal outputs.
#include "rnnad/score_row.h"

namespace rnnad {

double normalize_value(const NormalizationConfig& norm, double raw, int64_t f) {
  return norm.method == NormalizationConfig::Method::None
             ? raw
             : (raw - norm.center[static_cast<std::size_t>(f)]) / norm.scale[static_cast<std::size_t>(f)];
}

double score_error_vector(const ScoringConfig& s, const double* e, const double* logvar, int64_t n, double* contrib,
                          double* work) {
  return score_error_vector(score_terms(s), e, logvar, n, contrib, work);
}

double score_lstm_ad(const ScoringConfig& s, const double* u, int64_t d, int64_t horizon, double* contrib,
                     double* terms, double* work) {
  return score_lstm_ad(score_terms(s), u, d, horizon, contrib, terms, work);
}

void pool_window_score(ScoringConfig::Pooling pooling, bool first, double score, const double* contrib, int64_t n,
                       double& row_score, double* row_contrib) {
  for (int64_t f = 0; f < n; ++f)
    row_contrib[f] = pool_value(pooling, first, score, row_score, contrib[f], row_contrib[f]);
  row_score = pool_value(pooling, first, score, row_score, score, row_score);
}

}  // namespace rnnad
