// StreamPool: streams, shards, the per-sample path and the batched model steps
// (rnnad/stream_pool.h, docs/streaming.md). The arithmetic of scores is rnnad/score_row.h, the
// thresholds are threshold_static.h and spot.h, the model runs through Engine.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "rnnad/error.h"
#include "rnnad/score_row.h"
#include "rnnad/scoring.h"
#include "rnnad/threshold_static.h"
#include "stream_pool_impl.h"

namespace rnnad {

using stream_detail::Plan;
using stream_detail::RoundEntry;
using stream_detail::Shard;
using stream_detail::StreamState;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::size_t idx(int64_t i) { return static_cast<std::size_t>(i); }

Plan make_plan(const Model& model, const StreamPoolOptions& o, int64_t features) {
  const ModelConfig& mc = model.config();
  Plan p;
  p.F = mc.input_size();
  p.Fp = features;
  p.lstm_ad = mc.scoring.method == ScoringConfig::Method::LstmAd;
  if (mc.model_kind == ModelKind::Prediction) {
    const PredictionConfig& pc = mc.prediction;
    p.P = pc.prediction_size();
    p.K = pc.moments();
    p.horizon = pc.horizon;
    p.d = static_cast<int64_t>(pc.targets.size());
    if (pc.state == PredictionConfig::State::Stateful) {
      p.kind = Plan::Kind::Stateful;
      p.layers = pc.num_layers;
      p.hidden = pc.hidden_size;
      p.lstm = pc.cell == CellType::Lstm;
    } else {
      p.kind = Plan::Kind::WindowedPrediction;
      p.T = pc.seq_len;
      p.stride = mc.scoring.stride;
    }
  } else {
    p.kind = Plan::Kind::Windows;
    p.T = mc.seq_len();
    p.stride = mc.scoring.stride;
  }
  // Thresholds: the settings of threshold_apply.h, without the batch-only NDT.
  const ThresholdSettings& t = o.threshold;
  const char* name = threshold_method_name(t.method);
  if (t.method == ThresholdMethod::Ndt)
    throw UnsupportedError("StreamPool: the ndt threshold is batch-only (its windows look ahead at later rows); "
                           "use static, spot or dspot");
  if (t.method == ThresholdMethod::Static && t.value) {
    p.static_value = threshold_fixed(*t.value);
    p.n_cal = 0;
  } else {
    p.n_cal = t.calibration_rows < 0 ? default_calibration_rows(0, t) : t.calibration_rows;
    if (p.n_cal < 1)
      throw Error(std::string("StreamPool: threshold ") + name + " needs calibration_rows >= 1 (got " +
                  std::to_string(p.n_cal) + ")");
  }
  if (t.method == ThresholdMethod::Static) {
    if (!std::isfinite(t.k)) throw Error("StreamPool: threshold static: k must be finite");
    p.static_k = t.k;
  } else {
    p.use_spot = true;
    p.spot = t.spot;
    if (t.method == ThresholdMethod::Spot) p.spot.depth = 0;
    else if (p.spot.depth == 0) throw Error("StreamPool: threshold dspot: depth must be >= 1");
    if (static_cast<int64_t>(p.spot.depth) + 1 > p.n_cal)
      throw Error("StreamPool: threshold dspot: calibration_rows " + std::to_string(p.n_cal) +
                  " must exceed depth " + std::to_string(p.spot.depth));
    Spot check(p.spot);  // throws naming a bad parameter
  }
  if (!(o.input.gap_factor > 1.0)) throw Error("StreamPool: input.gap_factor must be > 1");
  if (o.input.period < 0) throw Error("StreamPool: input.period must be >= 0");
  return p;
}

/// splitmix64's finaliser: spreads sequential ids over the shards.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

const char* sample_status_name(SampleStatus s) {
  switch (s) {
    case SampleStatus::Accepted: return "accepted";
    case SampleStatus::Filled: return "filled";
    case SampleStatus::AfterGap: return "after_gap";
    case SampleStatus::NonFinite: return "non_finite";
    case SampleStatus::Duplicate: return "duplicate";
    case SampleStatus::OutOfOrder: return "out_of_order";
    case SampleStatus::WrongFeatures: return "wrong_features";
    case SampleStatus::UnknownStream: return "unknown_stream";
  }
  return "?";
}

StreamPool::Impl::Impl(std::shared_ptr<const Model> m, StreamPoolOptions o) : model(std::move(m)), options(std::move(o)) {
  if (options.shards < 1) throw Error("StreamPool: shards must be >= 1");
  if (options.max_batch < 1) throw Error("StreamPool: max_batch must be >= 1");
  {
    // The Scorer's constructor is the one place that decides which kind/method pairs score
    // (it throws UnsupportedError otherwise) and which columns the contributions have.
    Scorer probe(model, 1, Device::Cpu);
    feature_index = probe.feature_index();
  }
  plan = make_plan(*model, options, static_cast<int64_t>(feature_index.size()));
  nan_contrib.assign(feature_index.size(), kNaN);
  const int64_t B = options.max_batch, T = plan.T, F = plan.F;
  for (std::size_t k = 0; k < options.shards; ++k) {
    auto sh = std::make_unique<Shard>();
    sh->engine = std::make_unique<Engine>(model, EngineOptions{options.device, options.device_index, B, T});
    sh->round.reserve(idx(B));
    sh->in.resize(idx(T * B * F));
    sh->out.resize(idx(plan.kind == Plan::Kind::Windows ? T * B * F : B * plan.P));
    sh->h.resize(idx(plan.layers * B * plan.hidden));
    sh->c.resize(plan.lstm ? sh->h.size() : 0);
    const int64_t k_max = std::max<int64_t>({plan.F, plan.d * plan.horizon, 1});
    sh->e.resize(idx(std::max(k_max, F)));
    sh->logvar.resize(idx(k_max));
    sh->contrib.resize(idx(std::max<int64_t>(plan.Fp, 1)));
    sh->terms.resize(idx(k_max));
    sh->work.resize(idx(2 * k_max));
    shards.push_back(std::move(sh));
  }
}

std::size_t StreamPool::Impl::shard_index(uint64_t id) const { return static_cast<std::size_t>(mix(id) % shards.size()); }

std::unique_ptr<StreamState> StreamPool::Impl::make_stream(uint64_t id) const {
  auto s = std::make_unique<StreamState>();
  const Plan& p = plan;
  s->id = id;
  s->last_raw.assign(idx(p.F), 0.0);
  s->xf.assign(idx(p.T * p.F), 0.0f);
  s->ts.assign(idx(p.T), 0);
  if (p.kind == Plan::Kind::Stateful) {
    s->h.assign(idx(p.layers * p.hidden), 0.0f);
    if (p.lstm) s->c.assign(s->h.size(), 0.0f);
  }
  if (p.kind == Plan::Kind::Windows) {
    s->x.assign(idx(p.T * p.F), 0.0);
    s->acc_score.assign(idx(p.T), kNaN);
    s->acc_contrib.assign(idx(p.T * p.Fp), kNaN);
    s->acc_count.assign(idx(p.T), 0);
  } else {
    s->pred.assign(idx(p.pred_slots() * p.P), 0.0f);
    s->pred_row.assign(idx(p.pred_slots()), -1);
  }
  s->cal.reserve(idx(p.n_cal));
  reset_threshold(*s);
  return s;
}

void StreamPool::Impl::restart_segment(StreamState& s) const {
  s.seg_start = s.row;
  s.seg_rows = 0;
  s.emitted = 0;
  std::fill(s.h.begin(), s.h.end(), 0.0f);
  std::fill(s.c.begin(), s.c.end(), 0.0f);
  std::fill(s.pred_row.begin(), s.pred_row.end(), -1);
  std::fill(s.acc_count.begin(), s.acc_count.end(), 0);
}

void StreamPool::Impl::reset_threshold(StreamState& s) const {
  s.cal.clear();
  s.spot.reset();
  s.judging = plan.n_cal == 0;
  s.static_threshold = plan.static_value;
}

void StreamPool::Impl::emit(StreamState& s, int64_t seg_row, double score, const double* contrib, const RowSink& sink) {
  ScoredRow r;
  r.stream = s.id;
  r.row = s.seg_start + seg_row;
  r.timestamp = s.ts[idx(seg_row % plan.T)];
  r.score = score;
  r.threshold = kNaN;
  r.lag = s.row - 1 - r.row;
  r.contributions = std::span<const double>(contrib, idx(plan.Fp));
  s.emitted = seg_row + 1;
  if (std::isnan(score)) {
    r.verdict = RowVerdict::NoScore;
  } else if (!s.judging) {
    // Calibration: the first n_cal scored rows, as apply_threshold (threshold_apply.h).
    r.verdict = RowVerdict::Calibrating;
    s.cal.push_back(score);  // capacity n_cal: no allocation
    if (static_cast<int64_t>(s.cal.size()) == plan.n_cal) {
      try {
        if (plan.use_spot) {
          s.spot.emplace(plan.spot);
          s.spot->calibrate(s.cal);
        } else {
          s.static_threshold = threshold_mean_std(s.cal, plan.static_k);
        }
        s.judging = true;
      } catch (const Error&) {
        // Field case F22 (too few peaks) or infinite scores: start a new calibration.
        ++s.counters.calibration_failures;
        s.spot.reset();
      }
      s.cal.clear();
    }
  } else if (s.spot) {
    r.threshold = s.spot->threshold();  // in force before this row's step
    const bool alarm = std::isfinite(score) ? s.spot->step(score).is_alarm : score > r.threshold;
    r.verdict = alarm ? RowVerdict::Anomaly : RowVerdict::Normal;
  } else {
    r.threshold = s.static_threshold;
    r.verdict = score > r.threshold ? RowVerdict::Anomaly : RowVerdict::Normal;
  }
  sink(r);
}

SampleStatus StreamPool::Impl::arrive(Shard& sh, uint64_t id, int64_t timestamp, const double* sample,
                                      std::size_t features, const RowSink& sink) {
  const auto it = sh.streams.find(id);
  if (it == sh.streams.end()) {
    ++sh.unknown;
    return SampleStatus::UnknownStream;
  }
  StreamState& s = *it->second;
  const Plan& p = plan;
  const StreamInputPolicy& in = options.input;
  // Checks first: a rejected sample changes nothing but its counter.
  if (features != idx(p.F)) {
    ++s.counters.wrong_features;
    return SampleStatus::WrongFeatures;
  }
  if (s.has_ts && timestamp == s.last_ts) {
    ++s.counters.duplicates;
    return SampleStatus::Duplicate;
  }
  if (s.has_ts && timestamp < s.last_ts) {
    ++s.counters.out_of_order;
    return SampleStatus::OutOfOrder;
  }
  bool filled = false;
  for (int64_t f = 0; f < p.F; ++f) {
    const double v = sample[f];
    if (std::isnan(v) && in.missing == StreamInputPolicy::Missing::Ffill && s.has_last) {
      filled = true;
    } else if (!std::isfinite(v)) {
      ++s.counters.non_finite;
      return SampleStatus::NonFinite;
    }
  }
  // A stream's queued step must run before its next sample (its prediction scores this row).
  if (s.in_round) run_round(sh, sink);
  const bool gap = in.period > 0 && s.has_ts &&
                   static_cast<double>(timestamp) - static_cast<double>(s.last_ts) > in.gap_factor * static_cast<double>(in.period);
  if (gap) {
    ++s.counters.gaps;
    if (in.gap == StreamInputPolicy::Gap::Restart) end_segment(sh, s, sink);
  }
  s.has_ts = true;
  s.last_ts = timestamp;
  for (int64_t f = 0; f < p.F; ++f)
    if (!std::isnan(sample[f])) s.last_raw[idx(f)] = sample[f];
  s.has_last = true;
  ++s.counters.accepted;
  if (filled) ++s.counters.filled;

  // Normalise (float64; the model gets float32 of it, docs/scoring.md §6).
  const int64_t r = s.seg_rows, slot = r % p.T;
  const NormalizationConfig& norm = model->config().normalization;
  s.ts[idx(slot)] = timestamp;
  double* xd = sh.e.data();  // the row's normalised values (scratch, F doubles)
  for (int64_t f = 0; f < p.F; ++f) {
    xd[f] = normalize_value(norm, s.last_raw[idx(f)], f);
    s.xf[idx(slot * p.F + f)] = static_cast<float>(xd[f]);
    if (p.kind == Plan::Kind::Windows) s.x[idx(slot * p.F + f)] = xd[f];
  }
  ++s.row;
  ++s.seg_rows;

  bool due = false;
  if (p.kind == Plan::Kind::Windows) {
    s.acc_count[idx(slot)] = 0;
    if (r % p.stride >= p.T) emit(s, r, kNaN, nan_contrib.data(), sink);  // no window will cover this row (stride > T)
    due = r >= p.T - 1 && (r - p.T + 1) % p.stride == 0;
  } else {
    // Forecasters: row r is scored now from the predictions made after rows r-1 ... (docs/scoring.md §2, §3).
    const ScoringConfig& sc = model->config().scoring;
    const std::vector<int64_t>& targets = model->config().prediction.targets;
    auto made_after = [&](int64_t q) -> const float* {
      if (q < 0) return nullptr;
      const int64_t k = q % p.pred_slots();
      return s.pred_row[idx(k)] == q ? s.pred.data() + k * p.P : nullptr;
    };
    double score = kNaN;
    double* u = sh.work.data() + 0;  // errors; quadratic scratch lives in terms/work tail
    if (p.lstm_ad) {
      bool complete = r - p.horizon >= 0;
      for (int64_t h = 0; complete && h < p.horizon; ++h) {
        const float* pr = made_after(r - 1 - h);
        if (!pr) complete = false;
        else
          for (int64_t j = 0; j < p.d; ++j) sh.logvar[idx(j * p.horizon + h)] = xd[targets[idx(j)]] - pr[(h * p.K) * p.d + j];
      }
      if (complete) score = score_lstm_ad(sc, sh.logvar.data(), p.d, p.horizon, sh.contrib.data(), sh.terms.data(), u);
    } else if (const float* pr = made_after(r - 1)) {
      double* e = sh.terms.data();
      double* logvar = sh.logvar.data();
      for (int64_t j = 0; j < p.d; ++j) {
        e[j] = xd[targets[idx(j)]] - pr[j];
        if (p.K == 2) logvar[j] = pr[p.d + j];
      }
      score = score_error_vector(sc, e, logvar, p.d, sh.contrib.data(), u);
    }
    if (std::isnan(score)) std::fill(sh.contrib.begin(), sh.contrib.end(), kNaN);
    emit(s, r, score, sh.contrib.data(), sink);
    due = p.kind == Plan::Kind::Stateful || (r >= p.T - 1 && (r - p.T + 1) % p.stride == 0);
  }
  if (due) {
    if (static_cast<int64_t>(sh.round.size()) == options.max_batch) run_round(sh, sink);
    sh.round.push_back(RoundEntry{&s, r});
    s.in_round = true;
  }
  if (gap) return SampleStatus::AfterGap;
  return filled ? SampleStatus::Filled : SampleStatus::Accepted;
}

void StreamPool::Impl::run_round(Shard& sh, const RowSink& sink) {
  const auto B = static_cast<int64_t>(sh.round.size());
  if (B == 0) return;
  const Plan& p = plan;
  const int64_t F = p.F, T = p.T;
  struct Clear {  // the round is over even if the engine throws
    Shard& sh;
    ~Clear() {
      for (RoundEntry& e : sh.round) e.stream->in_round = false;
      sh.round.clear();
    }
  } clear{sh};

  auto store_prediction = [&](StreamState& s, int64_t r, const float* pred) {
    const int64_t k = r % p.pred_slots();
    bool finite = true;
    for (int64_t i = 0; i < p.P; ++i) finite = finite && std::isfinite(pred[i]);
    std::copy_n(pred, p.P, s.pred.data() + k * p.P);
    s.pred_row[idx(k)] = finite ? r : -1;
    if (!finite) ++s.counters.model_non_finite;
  };
  auto gather_windows = [&] {
    for (int64_t b = 0; b < B; ++b) {
      const StreamState& s = *sh.round[idx(b)].stream;
      const int64_t start = sh.round[idx(b)].seg_row - T + 1;
      for (int64_t t = 0; t < T; ++t)
        std::copy_n(s.xf.data() + ((start + t) % T) * F, F, sh.in.data() + (t * B + b) * F);
    }
  };

  if (p.kind == Plan::Kind::Stateful) {
    const int64_t L = p.layers, H = p.hidden;
    for (int64_t b = 0; b < B; ++b) {
      const StreamState& s = *sh.round[idx(b)].stream;
      std::copy_n(s.xf.data(), F, sh.in.data() + b * F);
      for (int64_t l = 0; l < L; ++l) {
        std::copy_n(s.h.data() + l * H, H, sh.h.data() + (l * B + b) * H);
        if (p.lstm) std::copy_n(s.c.data() + l * H, H, sh.c.data() + (l * B + b) * H);
      }
    }
    const std::array<int64_t, 3> state{L, B, H};
    sh.engine->predict_stateful({sh.in.data(), {1, B, F}}, {sh.out.data(), {1, B, p.P}}, {sh.h.data(), state},
                                p.lstm ? Tensor3{sh.c.data(), state} : Tensor3{});
    for (int64_t b = 0; b < B; ++b) {
      StreamState& s = *sh.round[idx(b)].stream;
      for (int64_t l = 0; l < L; ++l) {
        std::copy_n(sh.h.data() + (l * B + b) * H, H, s.h.data() + l * H);
        if (p.lstm) std::copy_n(sh.c.data() + (l * B + b) * H, H, s.c.data() + l * H);
      }
      store_prediction(s, sh.round[idx(b)].seg_row, sh.out.data() + b * p.P);
    }
  } else if (p.kind == Plan::Kind::WindowedPrediction) {
    gather_windows();
    sh.engine->predict({sh.in.data(), {T, B, F}}, {sh.out.data(), {1, B, p.P}});
    for (int64_t b = 0; b < B; ++b) store_prediction(*sh.round[idx(b)].stream, sh.round[idx(b)].seg_row, sh.out.data() + b * p.P);
  } else {
    gather_windows();
    sh.engine->reconstruct({sh.in.data(), {T, B, F}}, {sh.out.data(), {T, B, F}});
    const ScoringConfig& sc = model->config().scoring;
    for (int64_t b = 0; b < B; ++b) {
      StreamState& s = *sh.round[idx(b)].stream;
      const int64_t start = sh.round[idx(b)].seg_row - T + 1;
      bool finite = true;
      for (int64_t t = 0; t < T; ++t)
        for (int64_t f = 0; f < F; ++f) finite = finite && std::isfinite(sh.out[idx((t * B + b) * F + f)]);
      if (!finite) {
        ++s.counters.model_non_finite;  // this window adds nothing to its rows
      } else {
        for (int64_t t = 0; t < T; ++t) {
          const int64_t slot = (start + t) % T;
          const float* rec = sh.out.data() + (t * B + b) * F;
          for (int64_t f = 0; f < F; ++f) sh.e[idx(f)] = s.x[idx(slot * F + f)] - rec[f];
          const double score = score_error_vector(sc, sh.e.data(), nullptr, F, sh.contrib.data(), sh.work.data());
          int64_t& count = s.acc_count[idx(slot)];
          pool_window_score(sc.pooling, count == 0, score, sh.contrib.data(), F, s.acc_score[idx(slot)],
                            s.acc_contrib.data() + slot * p.Fp);
          ++count;
        }
      }
      // This window is the last one covering rows start ... start + min(stride, T) - 1.
      for (int64_t rr = start; rr < start + std::min(p.stride, T); ++rr) {
        const int64_t slot = rr % T;
        const int64_t n = s.acc_count[idx(slot)];
        double* c = s.acc_contrib.data() + slot * p.Fp;
        double score = n == 0 ? kNaN : s.acc_score[idx(slot)];
        if (n == 0) std::fill_n(c, p.Fp, kNaN);
        if (n >= 2 && sc.pooling == ScoringConfig::Pooling::Mean) {
          score /= static_cast<double>(n);
          for (int64_t f = 0; f < p.Fp; ++f) c[f] /= static_cast<double>(n);
        }
        emit(s, rr, score, c, sink);
      }
    }
  }
}

void StreamPool::Impl::end_segment(Shard& sh, StreamState& s, const RowSink& sink) {
  if (s.in_round) run_round(sh, sink);
  if (plan.kind == Plan::Kind::Windows) {
    const bool mean = model->config().scoring.pooling == ScoringConfig::Pooling::Mean;
    for (int64_t rr = s.emitted; rr < s.seg_rows; ++rr) {
      const int64_t slot = rr % plan.T;
      const int64_t n = s.acc_count[idx(slot)];
      double* c = s.acc_contrib.data() + slot * plan.Fp;
      double score = n == 0 ? kNaN : s.acc_score[idx(slot)];
      if (n == 0) std::fill_n(c, plan.Fp, kNaN);
      if (n >= 2 && mean) {
        score /= static_cast<double>(n);
        for (int64_t f = 0; f < plan.Fp; ++f) c[f] /= static_cast<double>(n);
      }
      emit(s, rr, score, c, sink);
    }
  }
  restart_segment(s);
}

StreamPool::StreamPool(std::shared_ptr<const Model> model, StreamPoolOptions options)
    : m_impl(std::make_unique<Impl>(std::move(model), std::move(options))) {}

StreamPool::~StreamPool() = default;

void StreamPool::add_stream(uint64_t id) {
  Shard& sh = *m_impl->shards[m_impl->shard_index(id)];
  auto s = m_impl->make_stream(id);
  const std::lock_guard lock(sh.mutex);
  if (sh.streams.count(id)) throw Error("StreamPool: stream " + std::to_string(id) + " already exists");
  sh.streams.emplace(id, std::move(s));
}

bool StreamPool::remove_stream(uint64_t id) {
  Shard& sh = *m_impl->shards[m_impl->shard_index(id)];
  const std::lock_guard lock(sh.mutex);
  return sh.streams.erase(id) > 0;
}

bool StreamPool::has_stream(uint64_t id) const {
  const Shard& sh = *m_impl->shards[m_impl->shard_index(id)];
  const std::lock_guard lock(sh.mutex);
  return sh.streams.count(id) > 0;
}

std::size_t StreamPool::size() const {
  std::size_t n = 0;
  for (const auto& sh : m_impl->shards) {
    const std::lock_guard lock(sh->mutex);
    n += sh->streams.size();
  }
  return n;
}

SampleStatus StreamPool::push(uint64_t id, int64_t timestamp, std::span<const double> sample, const RowSink& sink) {
  Shard& sh = *m_impl->shards[m_impl->shard_index(id)];
  const std::lock_guard lock(sh.mutex);
  const SampleStatus st = m_impl->arrive(sh, id, timestamp, sample.data(), sample.size(), sink);
  m_impl->run_round(sh, sink);
  return st;
}

int64_t StreamPool::push_batch(std::span<const uint64_t> ids, std::span<const int64_t> timestamps,
                               std::span<const double> samples, const RowSink& sink, std::span<SampleStatus> status) {
  const std::size_t n = ids.size(), F = idx(m_impl->plan.F);
  if (timestamps.size() != n || samples.size() != n * F || (!status.empty() && status.size() != n))
    throw ShapeError("StreamPool::push_batch: " + std::to_string(n) + " ids need " + std::to_string(n) +
                     " timestamps, " + std::to_string(n * F) + " sample values (" + std::to_string(F) +
                     " features each) and 0 or " + std::to_string(n) + " statuses; got " +
                     std::to_string(timestamps.size()) + ", " + std::to_string(samples.size()) + ", " +
                     std::to_string(status.size()));
  int64_t accepted_count = 0;
  const std::size_t shards = m_impl->shards.size();
  for (std::size_t k = 0; k < shards; ++k) {
    // A shard none of the samples belongs to is not locked: writers of other shards never wait.
    bool mine = shards == 1 && n > 0;
    for (std::size_t i = 0; i < n && !mine; ++i) mine = m_impl->shard_index(ids[i]) == k;
    if (!mine) continue;
    Shard& sh = *m_impl->shards[k];
    const std::lock_guard lock(sh.mutex);
    for (std::size_t i = 0; i < n; ++i) {
      if (shards > 1 && m_impl->shard_index(ids[i]) != k) continue;
      const SampleStatus st = m_impl->arrive(sh, ids[i], timestamps[i], samples.data() + i * F, F, sink);
      if (!status.empty()) status[i] = st;
      accepted_count += accepted(st) ? 1 : 0;
    }
    m_impl->run_round(sh, sink);
  }
  return accepted_count;
}

bool StreamPool::flush(uint64_t id, const RowSink& sink) {
  Shard& sh = *m_impl->shards[m_impl->shard_index(id)];
  const std::lock_guard lock(sh.mutex);
  const auto it = sh.streams.find(id);
  if (it == sh.streams.end()) return false;
  m_impl->end_segment(sh, *it->second, sink);
  return true;
}

bool StreamPool::reset(uint64_t id) {
  Shard& sh = *m_impl->shards[m_impl->shard_index(id)];
  const std::lock_guard lock(sh.mutex);
  const auto it = sh.streams.find(id);
  if (it == sh.streams.end()) return false;
  StreamState& s = *it->second;
  s.row = 0;
  s.has_ts = false;
  s.has_last = false;
  m_impl->restart_segment(s);
  m_impl->reset_threshold(s);
  return true;
}

namespace {
[[noreturn]] void unknown(uint64_t id) { throw Error("StreamPool: no stream " + std::to_string(id)); }
}  // namespace

StreamCounters StreamPool::counters(uint64_t id) const {
  const Shard& sh = *m_impl->shards[m_impl->shard_index(id)];
  const std::lock_guard lock(sh.mutex);
  const auto it = sh.streams.find(id);
  if (it == sh.streams.end()) unknown(id);
  return it->second->counters;
}

int64_t StreamPool::unknown_stream_samples() const {
  int64_t n = 0;
  for (const auto& sh : m_impl->shards) {
    const std::lock_guard lock(sh->mutex);
    n += sh->unknown;
  }
  return n;
}

std::vector<float> StreamPool::recurrent_state(uint64_t id) const {
  const Shard& sh = *m_impl->shards[m_impl->shard_index(id)];
  const std::lock_guard lock(sh.mutex);
  const auto it = sh.streams.find(id);
  if (it == sh.streams.end()) unknown(id);
  std::vector<float> out(it->second->h);
  out.insert(out.end(), it->second->c.begin(), it->second->c.end());
  return out;
}

std::size_t StreamPool::shard_of(uint64_t id) const { return m_impl->shard_index(id); }
const std::vector<int64_t>& StreamPool::feature_index() const { return m_impl->feature_index; }
const Model& StreamPool::model() const { return *m_impl->model; }
const StreamPoolOptions& StreamPool::options() const { return m_impl->options; }

}  // namespace rnnad
