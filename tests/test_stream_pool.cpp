// StreamPool equivalence with the batch Scorer (field case F25; docs/streaming.md): every model
// kind that can stream, fed one sample per push(), in chunks through push_batch() with other
// streams interleaved, across shards; the same scores (tolerance::kScore), recurrent states
// (1e-6) and alarms with static, SPOT and DSPOT thresholds (reference: apply_threshold on the
// batch scores); reset() and replay; NDT refused. The reference is the batch Scorer, itself
// validated against PyTorch (golden_scoring).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "golden_model.h"
#include "model_builder.h"
#include "rnnad/engine.h"
#include "rnnad/error.h"
#include "rnnad/scoring.h"
#include "rnnad/stream_pool.h"
#include "rnnad/threshold_apply.h"
#include "rnnad/threshold_static.h"
#include "stream_recorder.h"

using namespace rnnad;
using test::golden_model;
using test::check_rows_equal_batch;
using test::Recorder;

namespace {

std::span<const double> row_of(const std::vector<double>& raw, int64_t t, int64_t F) {
  return {raw.data() + t * F, static_cast<std::size_t>(F)};
}

StreamPoolOptions fixed_threshold(double value) {
  StreamPoolOptions o;
  o.threshold.method = ThresholdMethod::Static;
  o.threshold.value = value;
  return o;
}

// Every kind that streams: reconstruction (pooling mean/max/last, stride 1 and 2, bidirectional
// encoder), attention, windowed prediction (stride 2, lstm_ad, gaussian), stateful prediction.
const char* const kCases[] = {
    "scoring/recon_absolute_mean",   "scoring/recon_mahalanobis_max_s2", "scoring/recon_squared_last_s2",
    "scoring/attn_absolute_mean_s2", "scoring/attn_mahalanobis_mean",    "scoring/predw_absolute_s2",
    "scoring/predw_lstm_ad",         "scoring/predw_gauss_nll",          "scoring/preds_lstm_ad",
    "scoring/preds_gauss_nll",       "scoring/preds_absolute",           "scoring/recon_bi_l2_mahalanobis",
    "models/pred_lstm_point_stateful_l2", "models/recon_lstm_rev_bi1_l2"};

constexpr int64_t kRows = 300;  // F25: 300 points, a step of +2 from t = 250

}  // namespace

TEST_CASE("F25: one sample per push equals the batch Scorer for every kind", "[stream][field]") {
  for (const char* name : kCases) {
    auto model = golden_model(name);
    const int64_t F = model->config().input_size();
    const auto raw = test::f25_series(kRows, F);
    Scorer scorer(model);
    const SeriesScores ref = scorer.score(raw.data(), kRows);

    StreamPool pool(model, fixed_threshold(1.0));
    pool.add_stream(7);
    Recorder rec;
    for (int64_t t = 0; t < kRows; ++t) REQUIRE(pool.push(7, 1000 + 60 * t, row_of(raw, t, F), rec) == SampleStatus::Accepted);
    const std::size_t before_flush = rec.rows[7].size();
    REQUIRE(pool.flush(7, rec));
    check_rows_equal_batch(rec.rows[7], ref.scores, ref.contributions, std::string(name) + ", push");
    // Lateness: forecasters emit every row at once; pooled windows at most seq_len - 1 rows late.
    const int64_t T = model->config().seq_len();
    for (std::size_t i = 0; i < before_flush; ++i) {
      const auto& r = rec.rows[7][i];
      CHECK(r.timestamp == 1000 + 60 * r.row);
      if (model->config().model_kind == ModelKind::Prediction) CHECK(r.lag == 0);
      else CHECK(r.lag <= T - 1);
    }
  }
}

TEST_CASE("F25: chunks of 7 through push_batch, interleaved streams, shards and rounds equal the batch", "[stream][field]") {
  for (const char* name : kCases) {
    auto model = golden_model(name);
    const int64_t F = model->config().input_size();
    const auto a = test::f25_series(kRows, F), b = test::f25_series(kRows, F, 0.7);
    Scorer scorer(model);
    const SeriesScores ref_a = scorer.score(a.data(), kRows), ref_b = scorer.score(b.data(), kRows);

    StreamPoolOptions o = fixed_threshold(1.0);
    o.shards = 2;
    o.max_batch = 3;  // five streams per chunk step: rounds of 3 + 2
    StreamPool pool(model, o);
    const std::vector<uint64_t> streams = {1, 2, 3, 4, 5};  // 1, 3, 5 get series a; 2, 4 series b
    for (uint64_t id : streams) pool.add_stream(id);
    Recorder rec;
    for (int64_t t0 = 0; t0 < kRows; t0 += 7) {
      std::vector<uint64_t> ids;
      std::vector<int64_t> ts;
      std::vector<double> samples;
      for (int64_t t = t0; t < std::min(kRows, t0 + 7); ++t) {
        for (uint64_t id : streams) {
          ids.push_back(id);
          ts.push_back(t);
          const auto& src = id % 2 ? a : b;
          samples.insert(samples.end(), src.begin() + t * F, src.begin() + (t + 1) * F);
        }
      }
      std::vector<SampleStatus> status(ids.size());
      REQUIRE(pool.push_batch(ids, ts, samples, rec, status) == static_cast<int64_t>(ids.size()));
    }
    for (uint64_t id : streams) pool.flush(id, rec);
    for (uint64_t id : streams) {
      const SeriesScores& ref = id % 2 ? ref_a : ref_b;
      check_rows_equal_batch(rec.rows[id], ref.scores, ref.contributions, std::string(name) + ", stream " + std::to_string(id));
    }
  }
}

TEST_CASE("F25: a stateful forecaster's recurrent state equals one batch forward within 1e-6", "[stream][field]") {
  for (const char* name : {"models/pred_lstm_point_stateful_l2", "scoring/preds_gauss_nll"}) {
    auto model = golden_model(name);
    const PredictionConfig& pc = model->config().prediction;
    const int64_t F = pc.input_size, L = pc.num_layers, H = pc.hidden_size, P = pc.prediction_size();
    const auto raw = test::f25_series(kRows, F);
    const auto x = normalize_rows(model->config().normalization, raw.data(), kRows, F);
    std::vector<float> xf(x.begin(), x.end()), pred(static_cast<std::size_t>(kRows * P)),
        h(static_cast<std::size_t>(L * H)), c(h.size());
    const bool lstm = pc.cell == CellType::Lstm;
    Engine engine(model, {Device::Cpu, 0, 1, kRows});
    engine.predict_stateful({xf.data(), {kRows, 1, F}}, {pred.data(), {kRows, 1, P}}, {h.data(), {L, 1, H}},
                            lstm ? Tensor3{c.data(), {L, 1, H}} : Tensor3{});
    StreamPool pool(model, fixed_threshold(1.0));
    pool.add_stream(3);
    for (int64_t t = 0; t < kRows; ++t) pool.push(3, t, row_of(raw, t, F));
    const std::vector<float> state = pool.recurrent_state(3);
    REQUIRE(state.size() == (lstm ? 2 : 1) * h.size());
    double worst = 0.0;
    for (std::size_t i = 0; i < h.size(); ++i) worst = std::max(worst, std::abs(double(state[i]) - h[i]));
    if (lstm)
      for (std::size_t i = 0; i < c.size(); ++i) worst = std::max(worst, std::abs(double(state[h.size() + i]) - c[i]));
    INFO(name << ": worst state difference " << worst);
    CHECK(worst <= 1e-6);
  }
}

namespace {

/// Streams one series through a pool with `settings` and checks the alarms against
/// apply_threshold on the batch scores; returns the rows the batch flagged.
int check_alarms(const char* name, const ThresholdSettings& settings, const std::string& what) {
  auto model = golden_model(name);
  const int64_t F = model->config().input_size();
  const auto raw = test::f25_series(kRows, F);
  Scorer scorer(model);
  const SeriesScores ref = scorer.score(raw.data(), kRows);
  const RowThresholds want = apply_threshold(ref.scores, settings);
  StreamPoolOptions o;
  o.threshold = settings;
  StreamPool pool(model, o);
  pool.add_stream(9);
  Recorder rec;
  for (int64_t t = 0; t < kRows; ++t) pool.push(9, t, row_of(raw, t, F), rec);
  pool.flush(9, rec);
  const auto& got = rec.rows[9];
  REQUIRE(got.size() == static_cast<std::size_t>(kRows));
  int flagged = 0, mismatches = 0;
  for (std::size_t r = 0; r < got.size(); ++r) {
    INFO(name << ", " << what << ", row " << r << ": score " << got[r].score << " threshold " << got[r].threshold
              << " (batch " << ref.scores[r] << ", " << want.threshold[r] << ")");
    RowVerdict expected = RowVerdict::NoScore;
    if (!std::isnan(ref.scores[r]))
      expected = std::isnan(want.threshold[r]) ? RowVerdict::Calibrating
                                               : (want.flags[r] ? RowVerdict::Anomaly : RowVerdict::Normal);
    CHECK(got[r].verdict == expected);
    mismatches += got[r].verdict == expected ? 0 : 1;
    flagged += want.flags[r];
    if (!std::isnan(want.threshold[r]))
      CHECK(std::abs(got[r].threshold - want.threshold[r]) <= tolerance::kScore * std::max(1.0, std::abs(want.threshold[r])));
    if (mismatches > 3) break;
  }
  return flagged;
}

}  // namespace

TEST_CASE("F25: the same alarms as the batch with static, SPOT and DSPOT thresholds", "[stream][field][threshold]") {
  for (const char* name : {"scoring/recon_absolute_mean", "scoring/attn_absolute_mean_s2", "scoring/predw_absolute_s2",
                           "scoring/preds_gauss_nll", "scoring/preds_absolute"}) {
    ThresholdSettings fixed;
    fixed.method = ThresholdMethod::Static;
    fixed.value = 0.0;  // replaced below by the batch's 90th percentile, so some rows alarm
    {
      auto model = golden_model(name);
      const auto raw = test::f25_series(kRows, model->config().input_size());
      Scorer scorer(model);
      fixed.value = score_percentile(scorer.score(raw.data(), kRows).scores, 90.0);
    }
    int flagged = check_alarms(name, fixed, "static value");
    CHECK(flagged > 0);  // the 90th percentile flags rows, so the comparison means something
    ThresholdSettings mean_std;
    mean_std.method = ThresholdMethod::Static;
    mean_std.k = 1.0;
    mean_std.calibration_rows = 60;
    flagged = check_alarms(name, mean_std, "static mean + 1 std");
    ThresholdSettings spot;
    spot.method = ThresholdMethod::Spot;
    spot.spot.level = 0.9;
    spot.spot.q = 1e-2;
    spot.calibration_rows = 120;
    flagged += check_alarms(name, spot, "SPOT");
    ThresholdSettings dspot = spot;
    dspot.method = ThresholdMethod::Dspot;
    dspot.spot.depth = 5;
    flagged += check_alarms(name, dspot, "DSPOT");
    INFO(name);
    CHECK(flagged > 0);  // the calibrated methods flag something on these series
  }
}

TEST_CASE("F25: reset() and a replay reproduce the first run exactly", "[stream][field]") {
  for (const char* name : {"scoring/recon_absolute_mean", "scoring/preds_gauss_nll", "scoring/predw_absolute_s2"}) {
    auto model = golden_model(name);
    const int64_t F = model->config().input_size();
    const auto raw = test::f25_series(kRows, F);
    StreamPoolOptions o;
    o.threshold.method = ThresholdMethod::Spot;
    o.threshold.spot.level = 0.9;
    o.threshold.spot.q = 1e-2;
    o.threshold.calibration_rows = 120;
    StreamPool pool(model, o);
    pool.add_stream(1);
    Recorder first, second;
    for (int64_t t = 0; t < kRows; ++t) pool.push(1, t, row_of(raw, t, F), first);
    pool.flush(1, first);
    REQUIRE(pool.reset(1));
    for (int64_t t = 0; t < kRows; ++t) pool.push(1, t, row_of(raw, t, F), second);  // same timestamps: accepted after reset
    pool.flush(1, second);
    const auto& a = first.rows[1];
    const auto& b = second.rows[1];
    REQUIRE(a.size() == b.size());
    for (std::size_t r = 0; r < a.size(); ++r) {
      INFO(name << " row " << r);
      CHECK(a[r].row == b[r].row);
      CHECK(((std::isnan(a[r].score) && std::isnan(b[r].score)) || a[r].score == b[r].score));
      CHECK(a[r].verdict == b[r].verdict);
      CHECK(((std::isnan(a[r].threshold) && std::isnan(b[r].threshold)) || a[r].threshold == b[r].threshold));
    }
  }
}

TEST_CASE("settings a stream cannot honour are refused", "[stream]") {
  auto model = golden_model("scoring/recon_absolute_mean");
  StreamPoolOptions o;
  o.threshold.method = ThresholdMethod::Ndt;
  CHECK_THROWS_AS(StreamPool(model, o), UnsupportedError);  // NDT looks ahead: batch-only
  o.threshold.method = ThresholdMethod::Dspot;
  o.threshold.spot.depth = 0;
  CHECK_THROWS_AS(StreamPool(model, o), Error);
  StreamPoolOptions s = fixed_threshold(1.0);
  s.shards = 0;
  CHECK_THROWS_AS(StreamPool(model, s), Error);
  s = fixed_threshold(1.0);
  s.input.gap_factor = 1.0;
  CHECK_THROWS_AS(StreamPool(model, s), Error);
  RnnConfig rc;
  rc.input_size = 1;
  rc.hidden_size = 2;
  CHECK_THROWS_AS(StreamPool(test::make_rnn_model(rc, test::random_rnn_weights(rc, 1, 0.1f)), fixed_threshold(1.0)),
                  UnsupportedError);
  StreamPool pool(model, fixed_threshold(1.0));
  pool.add_stream(1);
  CHECK_THROWS_AS(pool.add_stream(1), Error);
  CHECK_THROWS_AS(pool.counters(2), Error);
  const std::vector<uint64_t> ids = {1, 1};
  const std::vector<int64_t> ts = {1, 2};
  const std::vector<double> three(3, 0.0);  // 2 samples of 3 features need 6 values
  CHECK_THROWS_AS(pool.push_batch(ids, ts, three), ShapeError);
  CHECK(pool.counters(1).accepted == 0);
}
