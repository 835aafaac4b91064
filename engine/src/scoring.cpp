// Scorer: model outputs -> one float64 score per row (docs/scoring.md). Sources: Malhotra et al.
// ESANN 2015 (LSTM-AD), arXiv 1607.00148 (EncDec-AD), Hundman et al. KDD 2018 (Telemanom).
#include "rnnad/scoring.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "models/runner.h"
#include "rnnad/error.h"
#include "rnnad/score_row.h"

namespace rnnad {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kStatefulChunk = 4096;  // rows per predict_stateful call (the engine's max_seq_len)

using Method = ScoringConfig::Method;

[[noreturn]] void throw_non_finite(const std::string& source, int64_t row) {
  throw Error(source + ": the model's output for row " + std::to_string(row) +
              " is not finite (its weights overflow float32 on this input); no score can be computed");
}

[[noreturn]] void throw_non_finite_input(const NormalizationConfig& norm, int64_t r, int64_t f) {
  throw FormatError("row " + std::to_string(r) + ", column " +
                    (f < static_cast<int64_t>(norm.features.size())
                         ? "'" + norm.features[static_cast<std::size_t>(f)] + "'"
                         : std::to_string(f)) +
                    ": value is not finite");
}

/// The normalised float64 values of raw rows [row0, row0 + n) of width F, into out [n, F] (the
/// rows a batch sends to the device; finiteness was checked before).
template <class Raw>
void normalize_into(const NormalizationConfig& norm, const Raw* raw, int64_t row0, int64_t n, int64_t F, double* out) {
  for (int64_t r = 0; r < n; ++r)
    for (int64_t f = 0; f < F; ++f)
      out[r * F + f] = normalize_value(norm, static_cast<double>(raw[(row0 + r) * F + f]), f);
}

/// Windows of length T at stride s among `windows` that cover row r.
int64_t windows_covering(int64_t r, int64_t T, int64_t s, int64_t windows) {
  const int64_t lo = r - T + 1 <= 0 ? 0 : (r - T + 1 + s - 1) / s;
  const int64_t hi = std::min(windows - 1, r / s);
  return std::max<int64_t>(0, hi - lo + 1);
}

}  // namespace

void OutputSpread::merge(const OutputSpread& other) {
  windows += other.windows;
  if (output.size() < other.output.size()) output.resize(other.output.size());
  if (input.size() < other.input.size()) input.resize(other.input.size());
  for (std::size_t f = 0; f < other.output.size(); ++f) output[f].merge(other.output[f]);
  for (std::size_t f = 0; f < other.input.size(); ++f) input[f].merge(other.input[f]);
  echo.merge(other.echo);
  step.merge(other.step);
}

std::vector<double> normalize_rows(const NormalizationConfig& norm, const double* raw, int64_t rows, int64_t features) {
  std::vector<double> x(static_cast<std::size_t>(rows * features));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t f = 0; f < features; ++f) {
      const double v = raw[r * features + f];
      if (!std::isfinite(v)) throw_non_finite_input(norm, r, f);
      x[static_cast<std::size_t>(r * features + f)] = normalize_value(norm, v, f);
    }
  }
  return x;
}

Scorer::Scorer(std::shared_ptr<const Model> model, int64_t batch, Device device)
    : Scorer(std::move(model), batch, EngineOptions{.device = device}) {}

Scorer::Scorer(std::shared_ptr<const Model> model, int64_t batch, EngineOptions engine)
    : m_model(std::move(model)), m_batch(batch) {
  if (batch < 1) throw ShapeError("Scorer: batch must be >= 1 (got " + std::to_string(batch) + ")");
  const ModelConfig& mc = m_model->config();
  const Method method = mc.scoring.method;
  const bool prediction = mc.model_kind == ModelKind::Prediction;
  if (mc.model_kind == ModelKind::Rnn)
    throw UnsupportedError(m_model->source() + ": a bare rnn model has no scores (kind rnn)");
  if (method == Method::GaussianNll && (!prediction || mc.prediction.output != PredictionConfig::Output::Gaussian))
    throw UnsupportedError(m_model->source() +
                           ": scoring method gaussian_nll needs a prediction model with a gaussian head");
  if (method == Method::LstmAd && !prediction)
    throw UnsupportedError(m_model->source() + ": scoring method lstm_ad needs a prediction model");
  if (method == Method::Mahalanobis && prediction)
    throw UnsupportedError(m_model->source() +
                           ": scoring method mahalanobis needs a reconstruction or attention model");
  if (method == Method::LstmAd && mc.prediction.state == PredictionConfig::State::Windowed && mc.scoring.stride != 1)
    throw UnsupportedError(m_model->source() + ": scoring method lstm_ad with a windowed forecaster needs stride 1");
  const bool stateful = prediction && mc.prediction.state == PredictionConfig::State::Stateful;
  engine.max_batch = stateful ? 1 : batch;
  engine.max_seq_len = stateful ? kStatefulChunk : mc.seq_len();
  m_engine = std::make_unique<Engine>(m_model, engine);
  if (!stateful) {
    try {
      m_window_scorer = detail::runner_of(*m_engine).make_window_scorer(mc.scoring, batch);
    } catch (const CudaError&) {
      // Its buffers do not fit on the device next to the engine's: score on the host, which
      // gives the same scores (device_scoring() says which).
      m_window_scorer.reset();
    }
    // One batch's rows: the windows' span, and a forecaster's row after the last window.
    if (m_window_scorer)
      m_span_rows.resize(static_cast<std::size_t>(
          ((batch - 1) * mc.scoring.stride + mc.seq_len() + (prediction ? 1 : 0)) * mc.input_size()));
  }
  if (prediction) {
    m_feature_index = mc.prediction.targets;
  } else {
    for (int64_t f = 0; f < mc.input_size(); ++f) m_feature_index.push_back(f);
  }
  m_spread.output.resize(m_feature_index.size());
  m_spread.input.resize(m_feature_index.size());
}

Scorer::~Scorer() = default;

namespace {

/// A result of `rows` rows for the given contribution columns, to be filled.
SeriesScores sized_scores(int64_t rows, const std::vector<int64_t>& feature_index) {
  SeriesScores out;
  out.rows = std::max<int64_t>(rows, 0);
  out.feature_index = feature_index;
  out.features = static_cast<int64_t>(feature_index.size());
  out.scores.resize(static_cast<std::size_t>(out.rows));
  out.contributions.resize(static_cast<std::size_t>(out.rows * out.features));
  return out;
}

}  // namespace

SeriesScores Scorer::score(const double* raw, int64_t rows) {
  SeriesScores out = sized_scores(rows, m_feature_index);
  score_impl(raw, rows, out.scores.data(), out.contributions.data());
  return out;
}

SeriesScores Scorer::score(const float* raw, int64_t rows) {
  SeriesScores out = sized_scores(rows, m_feature_index);
  score_impl(raw, rows, out.scores.data(), out.contributions.data());
  return out;
}

void Scorer::score_into(const float* raw, int64_t rows, std::span<double> scores, std::span<double> contributions) {
  if (rows < 0 || scores.size() != static_cast<std::size_t>(rows) ||
      contributions.size() != static_cast<std::size_t>(rows * features()))
    throw ShapeError("Scorer::score_into: buffers of " + std::to_string(scores.size()) + " scores and " +
                     std::to_string(contributions.size()) + " contributions for " + std::to_string(rows) +
                     " rows and " + std::to_string(features()) + " features");
  score_impl(raw, rows, scores.data(), contributions.data());
}

template <class Raw>
void Scorer::score_impl(const Raw* raw, int64_t rows, double* scores, double* contributions) {
  const ModelConfig& mc = m_model->config();
  const int64_t F = mc.input_size();
  if (rows < 1) throw ShapeError("series has no rows");
  if (mc.model_kind == ModelKind::Prediction && mc.prediction.state == PredictionConfig::State::Windowed &&
      rows < mc.prediction.seq_len + 1)
    throw ShapeError("series has " + std::to_string(rows) + " rows, the model needs " +
                     std::to_string(mc.prediction.seq_len + 1) + " (a window of " +
                     std::to_string(mc.prediction.seq_len) + " and one row to predict)");
  // The model's input: float32 of the float64 normalised rows (docs/scoring.md §6). The float64
  // values themselves are recomputed where errors need them, so only this float copy is held;
  // scoring on the device sends each batch's float64 rows instead and needs no copy.
  std::vector<float> xf(device_scoring() ? 0 : static_cast<std::size_t>(rows * F));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t f = 0; f < F; ++f) {
      const double v = static_cast<double>(raw[r * F + f]);
      if (!std::isfinite(v)) throw_non_finite_input(mc.normalization, r, f);
      if (!xf.empty())
        xf[static_cast<std::size_t>(r * F + f)] = static_cast<float>(normalize_value(mc.normalization, v, f));
    }
  }
  std::fill_n(scores, rows, kNaN);
  std::fill_n(contributions, rows * features(), kNaN);
  if (mc.model_kind == ModelKind::Prediction)
    score_prediction(raw, xf.data(), rows, scores, contributions);
  else
    score_windows_reconstruction(raw, xf.data(), rows, scores, contributions);
}

template <class Raw>
void Scorer::score_windows_reconstruction(const Raw* raw, const float* xf, int64_t rows, double* scores,
                                          double* contributions) {
  const ModelConfig& mc = m_model->config();
  const ScoringConfig& s = mc.scoring;
  const NormalizationConfig& norm = mc.normalization;
  const int64_t F = mc.input_size(), T = mc.seq_len(), stride = s.stride;
  const int64_t windows = m_engine->window_count(rows, stride);
  std::vector<double> e(static_cast<std::size_t>(F)), contrib(static_cast<std::size_t>(F)),
      work(static_cast<std::size_t>(2 * F));
  for (int64_t first = 0; first < windows; first += m_batch) {
    const int64_t count = std::min(m_batch, windows - first);
    if (device_scoring()) {
      // On the GPU (docs/scoring.md §8): the batch's rows go up in float64; finished rows come back.
      const int64_t row0 = first * stride, span = (count - 1) * stride + T;
      normalize_into(norm, raw, row0, span, F, m_span_rows.data());
      const int64_t bad = m_window_scorer->run(m_span_rows.data(), first, count, rows, first + count == windows, scores,
                                               contributions, m_spread);
      if (bad >= 0) throw_non_finite(m_model->source(), bad);
    } else {
      const WindowOutputs o = m_engine->run_windows(xf, rows, stride, first, count);
      for (int64_t w = 0; w < count; ++w) {
        for (int64_t t = 0; t < T; ++t) {
          const int64_t r = (first + w) * stride + t;
          const float* rec = o.reconstruction.data + (t * count + w) * F;
          for (int64_t f = 0; f < F; ++f) {
            if (!std::isfinite(rec[f])) throw_non_finite(m_model->source(), r);
            const double x = normalize_value(norm, static_cast<double>(raw[r * F + f]), f);
            e[static_cast<std::size_t>(f)] = x - rec[f];
            m_spread.output[static_cast<std::size_t>(f)].add(rec[f]);
            m_spread.input[static_cast<std::size_t>(f)].add(x);
          }
          // Pooled in place (docs/scoring.md §4): NaN = no window yet; mean sums, divided below.
          const double score = score_error_vector(s, e.data(), nullptr, F, contrib.data(), work.data());
          pool_window_score(s.pooling, std::isnan(scores[r]), score, contrib.data(), F, scores[r],
                            contributions + r * F);
        }
      }
    }
    m_spread.windows += count;
    report(std::min(rows, (first + count) * stride + T - 1));
  }
  if (s.pooling == ScoringConfig::Pooling::Mean) {
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t n = windows_covering(r, T, stride, windows);
      if (n < 2) continue;
      const double div = static_cast<double>(n);
      scores[r] /= div;
      for (int64_t f = 0; f < F; ++f) contributions[r * F + f] /= div;
    }
  }
  report(rows);
}

template <class Raw>
void Scorer::score_prediction(const Raw* raw, const float* xf, int64_t rows, double* scores, double* contributions) {
  const ModelConfig& mc = m_model->config();
  const ScoringConfig& s = mc.scoring;
  const PredictionConfig& p = mc.prediction;
  const NormalizationConfig& norm = mc.normalization;
  const int64_t F = p.input_size, P = p.prediction_size(), K = p.moments(), L = p.horizon;
  const int64_t d = static_cast<int64_t>(p.targets.size());
  // The last L + 1 predictions, by the row they were made after (slot q % (L + 1)): lstm_ad needs
  // the forecasts made after rows r-1 ... r-L to score row r, the other methods the one after r-1.
  const int64_t slots = L + 1;
  std::vector<float> ring(static_cast<std::size_t>(slots * P));
  std::vector<int64_t> ring_row(static_cast<std::size_t>(slots), -1);
  auto made_after = [&](int64_t q) -> const float* {
    if (q < 0) return nullptr;
    const auto slot = static_cast<std::size_t>(q % slots);
    return ring_row[slot] == q ? ring.data() + static_cast<int64_t>(slot) * P : nullptr;
  };
  auto target = [&](int64_t r, int64_t j) {
    const int64_t f = p.targets[static_cast<std::size_t>(j)];
    return normalize_value(norm, static_cast<double>(raw[r * F + f]), f);
  };
  std::vector<double> e(static_cast<std::size_t>(d * L)), logvar(static_cast<std::size_t>(d)),
      contrib(static_cast<std::size_t>(d)), terms(static_cast<std::size_t>(d * L)),
      work(static_cast<std::size_t>(2 * d * L));

  // Scores row r once every prediction it needs exists (docs/scoring.md §2, §3).
  auto score_row = [&](int64_t r) {
    double score;
    if (s.method == Method::LstmAd) {
      // u[j*L + h] = x(r, target j) - the (h+1)-step-ahead prediction made after row r-1-h.
      if (r - L < 0) return;
      for (int64_t h = 0; h < L; ++h) {
        const float* pr = made_after(r - 1 - h);
        if (!pr) return;
        for (int64_t j = 0; j < d; ++j) e[static_cast<std::size_t>(j * L + h)] = target(r, j) - pr[(h * K) * d + j];
      }
      score = score_lstm_ad(s, e.data(), d, L, contrib.data(), terms.data(), work.data());
    } else {
      const float* pr = made_after(r - 1);  // one-step-ahead prediction (h = 0), as Telemanom
      if (!pr) return;
      for (int64_t j = 0; j < d; ++j) {
        e[static_cast<std::size_t>(j)] = target(r, j) - pr[j];
        if (K == 2) logvar[static_cast<std::size_t>(j)] = pr[d + j];
      }
      score = score_error_vector(s, e.data(), logvar.data(), d, contrib.data(), work.data());
    }
    scores[r] = score;
    std::copy_n(contrib.data(), d, contributions + r * d);
  };

  // A prediction made after row q arrives (in increasing q): keep it, then score row q + 1.
  auto on_prediction = [&](int64_t q, const float* pred) {
    for (int64_t k = 0; k < P; ++k)
      if (!std::isfinite(pred[k])) throw_non_finite(m_model->source(), q);
    const auto slot = static_cast<std::size_t>(q % slots);
    std::copy_n(pred, P, ring.data() + static_cast<int64_t>(slot) * P);
    ring_row[slot] = q;
    ++m_spread.windows;
    if (q + 1 >= rows) return;
    for (int64_t j = 0; j < d; ++j) {
      const double last = target(q, j), next = target(q + 1, j);
      m_spread.output[static_cast<std::size_t>(j)].add(pred[j]);
      m_spread.input[static_cast<std::size_t>(j)].add(next);
      m_spread.echo.add(std::abs(static_cast<double>(pred[j]) - last));
      m_spread.step.add(std::abs(next - last));
    }
    score_row(q + 1);
  };

  if (p.state == PredictionConfig::State::Stateful) {
    // Chunks of kStatefulChunk rows, the recurrent state carried between them (engine.h:
    // feeding a series in chunks gives the same predictions as one call).
    const std::array<int64_t, 3> state{p.num_layers, 1, p.hidden_size};
    std::vector<float> h(static_cast<std::size_t>(p.num_layers * p.hidden_size), 0.0f), c(h.size(), 0.0f);
    const bool lstm = p.cell == CellType::Lstm;
    const int64_t chunk = std::min(rows, kStatefulChunk);
    std::vector<float> made(static_cast<std::size_t>(chunk * P));
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
      const int64_t n = std::min(chunk, rows - r0);
      m_engine->predict_stateful({xf + r0 * F, {n, 1, F}}, {made.data(), {n, 1, P}}, {h.data(), state},
                                 lstm ? Tensor3{c.data(), state} : Tensor3{});
      for (int64_t i = 0; i < n; ++i) on_prediction(r0 + i, made.data() + i * P);
      report(r0 + n);
    }
  } else {
    const int64_t T = p.seq_len, stride = s.stride, windows = m_engine->window_count(rows, stride);
    for (int64_t first = 0; first < windows; first += m_batch) {
      const int64_t count = std::min(m_batch, windows - first);
      if (device_scoring()) {
        // On the GPU (docs/scoring.md §8): the windows' rows and the row after them go up in
        // float64; each window's score and contributions come back.
        const int64_t row0 = first * stride, n = std::min((count - 1) * stride + T + 1, rows - row0);
        normalize_into(norm, raw, row0, n, F, m_span_rows.data());
        const int64_t bad = m_window_scorer->run(m_span_rows.data(), first, count, rows, first + count == windows,
                                                 scores, contributions, m_spread);
        if (bad >= 0) throw_non_finite(m_model->source(), bad);
        m_spread.windows += count;
      } else {
        const WindowOutputs o = m_engine->run_windows(xf, rows, stride, first, count);
        for (int64_t w = 0; w < count; ++w) on_prediction((first + w) * stride + T - 1, o.prediction.data + w * P);
      }
      report(std::min(rows, (first + count - 1) * stride + T + 1));
    }
    report(rows);
  }
}

}  // namespace rnnad
