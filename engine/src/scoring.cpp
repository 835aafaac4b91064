// Scorer: model outputs -> one float64 score per row (docs/scoring.md). Sources: Malhotra et al.
// ESANN 2015 (LSTM-AD), arXiv 1607.00148 (EncDec-AD), Hundman et al. KDD 2018 (Telemanom).
#include "rnnad/scoring.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "rnnad/error.h"

namespace rnnad {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kLog2Pi = 1.8378770664093454835606594728112;

using Method = ScoringConfig::Method;

// Quadratic form d^T L d of d = u - mean with its per-component terms d_i (L d)_i.
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

// Pools per-window row scores into per-row scores (docs/scoring.md §4).
class Pool {
 public:
  Pool(ScoringConfig::Pooling pooling, int64_t rows, int64_t features)
      : m_pooling(pooling), m_features(features), m_score(static_cast<std::size_t>(rows), 0.0),
        m_count(static_cast<std::size_t>(rows), 0), m_contrib(static_cast<std::size_t>(rows * features), 0.0) {}

  void add(int64_t row, double score, const double* contrib) {
    auto& count = m_count[static_cast<std::size_t>(row)];
    double& s = m_score[static_cast<std::size_t>(row)];
    double* c = m_contrib.data() + row * m_features;
    const bool replace = m_pooling == ScoringConfig::Pooling::Last ||
                         (m_pooling == ScoringConfig::Pooling::Max && (count == 0 || score > s));
    if (m_pooling == ScoringConfig::Pooling::Mean) {
      s += score;
      for (int64_t f = 0; f < m_features; ++f) c[f] += contrib[f];
    } else if (replace) {
      s = score;
      std::copy_n(contrib, m_features, c);
    }
    ++count;
  }

  void finish(SeriesScores& out) const {
    for (std::size_t r = 0; r < m_score.size(); ++r) {
      const int64_t n = m_count[r];
      const double div = m_pooling == ScoringConfig::Pooling::Mean && n > 0 ? static_cast<double>(n) : 1.0;
      out.scores[r] = n == 0 ? kNaN : m_score[r] / div;
      for (int64_t f = 0; f < m_features; ++f)
        out.contributions[r * m_features + f] = n == 0 ? kNaN : m_contrib[r * m_features + f] / div;
    }
  }

 private:
  ScoringConfig::Pooling m_pooling;
  int64_t m_features;
  std::vector<double> m_score;
  std::vector<int64_t> m_count;
  std::vector<double> m_contrib;
};

// Score and contributions of one error vector e [n] (signed errors) for the element-wise methods
// and Mahalanobis; logvar [n] for gaussian_nll.
double elementwise_score(const ScoringConfig& s, const double* e, const double* logvar, int64_t n, double* contrib,
                         double* work) {
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
  return kNaN;
}

[[noreturn]] void throw_non_finite(const std::string& source, int64_t row) {
  throw Error(source + ": the model's output for row " + std::to_string(row) +
              " is not finite (its weights overflow float32 on this input); no score can be computed");
}

}  // namespace

std::vector<double> normalize_rows(const NormalizationConfig& norm, const double* raw, int64_t rows, int64_t features) {
  std::vector<double> x(static_cast<std::size_t>(rows * features));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t f = 0; f < features; ++f) {
      const double v = raw[r * features + f];
      if (!std::isfinite(v))
        throw FormatError("row " + std::to_string(r) + ", column " +
                          (f < static_cast<int64_t>(norm.features.size()) ? "'" + norm.features[static_cast<std::size_t>(f)] + "'"
                                                                           : std::to_string(f)) +
                          ": value is not finite");
      x[static_cast<std::size_t>(r * features + f)] =
          norm.method == NormalizationConfig::Method::None
              ? v
              : (v - norm.center[static_cast<std::size_t>(f)]) / norm.scale[static_cast<std::size_t>(f)];
    }
  }
  return x;
}

Scorer::Scorer(std::shared_ptr<const Model> model, int64_t batch, Device device) : m_model(std::move(model)), m_batch(batch) {
  if (batch < 1) throw ShapeError("Scorer: batch must be >= 1 (got " + std::to_string(batch) + ")");
  const ModelConfig& mc = m_model->config();
  const Method method = mc.scoring.method;
  const bool prediction = mc.model_kind == ModelKind::Prediction;
  if (mc.model_kind == ModelKind::Rnn)
    throw UnsupportedError(m_model->source() + ": a bare rnn model has no scores (kind rnn)");
  if (method == Method::GaussianNll &&
      (!prediction || mc.prediction.output != PredictionConfig::Output::Gaussian))
    throw UnsupportedError(m_model->source() + ": scoring method gaussian_nll needs a prediction model with a gaussian head");
  if (method == Method::LstmAd && !prediction)
    throw UnsupportedError(m_model->source() + ": scoring method lstm_ad needs a prediction model");
  if (method == Method::Mahalanobis && prediction)
    throw UnsupportedError(m_model->source() + ": scoring method mahalanobis needs a reconstruction or attention model");
  if (method == Method::LstmAd && mc.prediction.state == PredictionConfig::State::Windowed && mc.scoring.stride != 1)
    throw UnsupportedError(m_model->source() + ": scoring method lstm_ad with a windowed forecaster needs stride 1");
  const bool stateful = prediction && mc.prediction.state == PredictionConfig::State::Stateful;
  m_engine = std::make_unique<Engine>(m_model, EngineOptions{device, 0, stateful ? 1 : batch,
                                                             stateful ? 4096 : mc.seq_len()});
}

Scorer::~Scorer() = default;

SeriesScores Scorer::score(const double* raw, int64_t rows) {
  const ModelConfig& mc = m_model->config();
  const int64_t F = mc.input_size();
  if (rows < 1) throw ShapeError("series has no rows");
  if (mc.model_kind == ModelKind::Prediction && mc.prediction.state == PredictionConfig::State::Windowed &&
      rows < mc.prediction.seq_len + 1)
    throw ShapeError("series has " + std::to_string(rows) + " rows, the model needs " +
                     std::to_string(mc.prediction.seq_len + 1) + " (a window of " + std::to_string(mc.prediction.seq_len) +
                     " and one row to predict)");
  const std::vector<double> x = normalize_rows(mc.normalization, raw, rows, F);
  const std::vector<float> xf(x.begin(), x.end());
  SeriesScores out;
  out.rows = rows;
  if (mc.model_kind == ModelKind::Prediction) {
    out.feature_index = mc.prediction.targets;
  } else {
    for (int64_t f = 0; f < F; ++f) out.feature_index.push_back(f);
  }
  out.features = static_cast<int64_t>(out.feature_index.size());
  out.scores.assign(static_cast<std::size_t>(rows), kNaN);
  out.contributions.assign(static_cast<std::size_t>(rows * out.features), kNaN);
  if (mc.model_kind == ModelKind::Prediction) score_prediction(x, xf, rows, out);
  else score_windows_reconstruction(x, xf, rows, out);
  return out;
}

void Scorer::score_windows_reconstruction(const std::vector<double>& x, const std::vector<float>& xf, int64_t rows,
                                          SeriesScores& out) {
  const ModelConfig& mc = m_model->config();
  const ScoringConfig& s = mc.scoring;
  const int64_t F = mc.input_size(), T = mc.seq_len(), stride = s.stride;
  const int64_t windows = m_engine->window_count(rows, stride);
  Pool pool(s.pooling, rows, F);
  std::vector<double> e(static_cast<std::size_t>(F)), contrib(static_cast<std::size_t>(F)), work(static_cast<std::size_t>(2 * F));
  for (int64_t first = 0; first < windows; first += m_batch) {
    const int64_t count = std::min(m_batch, windows - first);
    const WindowOutputs o = m_engine->run_windows(xf.data(), rows, stride, first, count);
    for (int64_t w = 0; w < count; ++w) {
      for (int64_t t = 0; t < T; ++t) {
        const int64_t r = (first + w) * stride + t;
        const float* rec = o.reconstruction.data + (t * count + w) * F;
        for (int64_t f = 0; f < F; ++f) {
          if (!std::isfinite(rec[f])) throw_non_finite(m_model->source(), r);
          e[static_cast<std::size_t>(f)] = x[static_cast<std::size_t>(r * F + f)] - rec[f];
        }
        const double score = elementwise_score(s, e.data(), nullptr, F, contrib.data(), work.data());
        pool.add(r, score, contrib.data());
      }
    }
  }
  pool.finish(out);
}

void Scorer::score_prediction(const std::vector<double>& x, const std::vector<float>& xf, int64_t rows,
                              SeriesScores& out) {
  const ModelConfig& mc = m_model->config();
  const ScoringConfig& s = mc.scoring;
  const PredictionConfig& p = mc.prediction;
  const int64_t F = p.input_size, P = p.prediction_size(), K = p.moments(), L = p.horizon;
  const int64_t d = static_cast<int64_t>(p.targets.size());
  // made[r] = the prediction vector [P] made after row r, where has[r].
  std::vector<float> made(static_cast<std::size_t>(rows * P), 0.0f);
  std::vector<unsigned char> has(static_cast<std::size_t>(rows), 0);  // a prediction was made after row r
  if (p.state == PredictionConfig::State::Stateful) {
    m_engine->predict_stateful({xf.data(), {rows, 1, F}}, {made.data(), {rows, 1, P}});
    std::fill(has.begin(), has.end(), 1);
  } else {
    const int64_t T = p.seq_len, stride = s.stride, windows = m_engine->window_count(rows, stride);
    for (int64_t first = 0; first < windows; first += m_batch) {
      const int64_t count = std::min(m_batch, windows - first);
      const WindowOutputs o = m_engine->run_windows(xf.data(), rows, stride, first, count);
      for (int64_t w = 0; w < count; ++w) {
        const int64_t r = (first + w) * stride + T - 1;
        std::copy_n(o.prediction.data + w * P, P, made.data() + r * P);
        has[static_cast<std::size_t>(r)] = 1;
      }
    }
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; has[static_cast<std::size_t>(r)] && k < P; ++k)
      if (!std::isfinite(made[static_cast<std::size_t>(r * P + k)])) throw_non_finite(m_model->source(), r);
  auto made_after = [&](int64_t r) -> const float* { return has[static_cast<std::size_t>(r)] ? made.data() + r * P : nullptr; };
  auto target = [&](int64_t r, int64_t j) { return x[static_cast<std::size_t>(r * F + p.targets[static_cast<std::size_t>(j)])]; };
  std::vector<double> e(static_cast<std::size_t>(d * L)), logvar(static_cast<std::size_t>(d)),
      contrib(static_cast<std::size_t>(d)), terms(static_cast<std::size_t>(d * L)), work(static_cast<std::size_t>(2 * d * L));
  for (int64_t r = 1; r < rows; ++r) {
    double score;
    if (s.method == Method::LstmAd) {
      // u[j*L + h] = x(r, target j) - the (h+1)-step-ahead prediction made after row r-1-h.
      bool complete = r - L >= 0;
      for (int64_t h = 0; complete && h < L; ++h) {
        const float* pr = made_after(r - 1 - h);
        if (!pr) {
          complete = false;
          break;
        }
        for (int64_t j = 0; j < d; ++j) e[static_cast<std::size_t>(j * L + h)] = target(r, j) - pr[(h * K) * d + j];
      }
      if (!complete) continue;
      const int64_t k = d * L;
      const double quad = quadratic_terms(s, e.data(), k, terms.data(), work.data());
      const double constant = 0.5 * (static_cast<double>(k) * kLog2Pi + s.log_det);
      score = 0.5 * quad + constant;
      for (int64_t j = 0; j < d; ++j) {
        double c = constant / static_cast<double>(d);
        for (int64_t h = 0; h < L; ++h) c += 0.5 * terms[static_cast<std::size_t>(j * L + h)];
        contrib[static_cast<std::size_t>(j)] = c;
      }
    } else {
      const float* pr = made_after(r - 1);  // one-step-ahead prediction (h = 0), as Telemanom
      if (!pr) continue;
      for (int64_t j = 0; j < d; ++j) {
        e[static_cast<std::size_t>(j)] = target(r, j) - pr[j];
        if (K == 2) logvar[static_cast<std::size_t>(j)] = pr[d + j];
      }
      score = elementwise_score(s, e.data(), logvar.data(), d, contrib.data(), work.data());
    }
    out.scores[static_cast<std::size_t>(r)] = score;
    std::copy_n(contrib.data(), d, out.contributions.data() + r * d);
  }
}

}  // namespace rnnad
