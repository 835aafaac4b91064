// StreamPool's bad-input policies (docs/streaming.md, "Bad input"): NaN and infinite samples,
// forward fill, duplicate and out-of-order timestamps, unknown stream ids, wrong feature counts,
// gaps (restart or bridge). Each is counted per stream and leaves every other stream - and the
// stream itself, for a rejected sample - exactly as without it.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "golden_model.h"
#include "rnnad/scoring.h"
#include "rnnad/stream_pool.h"
#include "stream_recorder.h"

using namespace rnnad;
using test::golden_model;
using test::Recorder;

namespace {

constexpr int64_t kRows = 300;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

StreamPoolOptions options() {
  StreamPoolOptions o;
  o.shards = 2;
  o.threshold.method = ThresholdMethod::Spot;  // threshold state must not be touched either
  o.threshold.spot.level = 0.9;
  o.threshold.spot.q = 1e-2;
  o.threshold.calibration_rows = 120;
  return o;
}

void check_identical(const std::vector<test::RecordedRow>& a, const std::vector<test::RecordedRow>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t r = 0; r < a.size(); ++r) {
    INFO("row " << r);
    CHECK(a[r].row == b[r].row);
    CHECK(a[r].timestamp == b[r].timestamp);
    CHECK(((std::isnan(a[r].score) && std::isnan(b[r].score)) || a[r].score == b[r].score));
    CHECK(a[r].verdict == b[r].verdict);
  }
}

const char* const kModels[] = {"scoring/recon_absolute_mean", "scoring/preds_absolute", "scoring/predw_absolute_s2"};

}  // namespace

TEST_CASE("rejected samples are counted and change nothing, in this stream or another", "[stream][input]") {
  for (const char* name : kModels) {
    INFO(name);
    auto model = golden_model(name);
    const int64_t F = model->config().input_size();
    const auto raw = test::f25_series(kRows, F);
    StreamPool pool(model, options());
    pool.add_stream(1);  // gets the bad samples too
    pool.add_stream(2);  // clean
    Recorder rec;
    std::vector<double> bad(static_cast<std::size_t>(F), 0.5);
    int64_t unknown = 0;
    for (int64_t t = 0; t < kRows; ++t) {
      const std::span<const double> row(raw.data() + t * F, static_cast<std::size_t>(F));
      REQUIRE(pool.push(1, 60 * t, row, rec) == SampleStatus::Accepted);
      REQUIRE(pool.push(2, 60 * t, row, rec) == SampleStatus::Accepted);
      if (t % 25 == 3) {
        bad[0] = kNaN;
        CHECK(pool.push(1, 60 * t + 1, bad, rec) == SampleStatus::NonFinite);  // policy Drop
        bad[0] = std::numeric_limits<double>::infinity();
        CHECK(pool.push(1, 60 * t + 1, bad, rec) == SampleStatus::NonFinite);
        bad[0] = 0.5;
        CHECK(pool.push(1, 60 * t, bad, rec) == SampleStatus::Duplicate);       // same timestamp as row t
        CHECK(pool.push(1, 60 * t - 30, bad, rec) == SampleStatus::OutOfOrder);
        const std::vector<double> wide(static_cast<std::size_t>(F + 1), 0.5);
        CHECK(pool.push(1, 60 * t + 1, wide, rec) == SampleStatus::WrongFeatures);
        CHECK(pool.push(1, 60 * t + 1, std::span<const double>(), rec) == SampleStatus::WrongFeatures);
        CHECK(pool.push(99, 60 * t, row, rec) == SampleStatus::UnknownStream);
        ++unknown;
      }
    }
    pool.flush(1, rec);
    pool.flush(2, rec);
    check_identical(rec.rows[1], rec.rows[2]);
    const StreamCounters c1 = pool.counters(1), c2 = pool.counters(2);
    CHECK(c1.accepted == kRows);
    CHECK(c1.non_finite == 2 * 12);
    CHECK(c1.duplicates == 12);
    CHECK(c1.out_of_order == 12);
    CHECK(c1.wrong_features == 2 * 12);
    CHECK(c2.accepted == kRows);
    CHECK(c2.non_finite + c2.duplicates + c2.out_of_order + c2.wrong_features + c2.gaps == 0);
    CHECK(pool.unknown_stream_samples() == unknown);
    CHECK_FALSE(pool.has_stream(99));

    // The same bad samples through push_batch: statuses per sample, same counters.
    const std::vector<uint64_t> ids = {1, 2, 99, 1};
    const std::vector<int64_t> ts = {60 * kRows, 60 * kRows, 60 * kRows, 60 * kRows};  // last one duplicates the first
    std::vector<double> samples;
    for (int i = 0; i < 4; ++i) samples.insert(samples.end(), raw.begin(), raw.begin() + F);
    std::vector<SampleStatus> status(4);
    CHECK(pool.push_batch(ids, ts, samples, rec, status) == 2);
    CHECK(status == std::vector<SampleStatus>{SampleStatus::Accepted, SampleStatus::Accepted, SampleStatus::UnknownStream,
                                              SampleStatus::Duplicate});
    CHECK(pool.counters(1).duplicates == 13);
  }
}

TEST_CASE("forward fill replaces NaN features with the stream's last value", "[stream][input]") {
  for (const char* name : kModels) {
    INFO(name);
    auto model = golden_model(name);
    const int64_t F = model->config().input_size();
    const auto raw = test::f25_series(kRows, F);
    StreamPoolOptions o = options();
    o.input.missing = StreamInputPolicy::Missing::Ffill;
    StreamPool pool(model, o);
    pool.add_stream(1);
    pool.add_stream(2);
    Recorder rec;
    const std::vector<double> all_nan(static_cast<std::size_t>(F), kNaN);
    CHECK(pool.push(1, -1, all_nan, rec) == SampleStatus::NonFinite);  // nothing to fill from yet
    for (int64_t t = 0; t < kRows; ++t) {
      std::vector<double> a(raw.begin() + t * F, raw.begin() + (t + 1) * F), b = a;
      if (t % 10 == 5) {
        a[static_cast<std::size_t>(F - 1)] = kNaN;
        b[static_cast<std::size_t>(F - 1)] = raw[static_cast<std::size_t>((t - 1) * F + F - 1)];
        CHECK(pool.push(1, t, a, rec) == SampleStatus::Filled);
      } else {
        CHECK(pool.push(1, t, a, rec) == SampleStatus::Accepted);
      }
      pool.push(2, t, b, rec);
    }
    pool.flush(1, rec);
    pool.flush(2, rec);
    check_identical(rec.rows[1], rec.rows[2]);
    CHECK(pool.counters(1).filled == kRows / 10);
    CHECK(pool.counters(1).non_finite == 1);
  }
}

TEST_CASE("a gap restarts the stream's segment, or is bridged", "[stream][input]") {
  for (const char* name : kModels) {
    INFO(name);
    auto model = golden_model(name);
    const int64_t F = model->config().input_size();
    const auto raw = test::f25_series(kRows, F);
    const int64_t cut = 150;
    auto ts_of = [&](int64_t t) { return 60 * t + (t >= cut ? 100000 : 0); };
    Scorer scorer(model);
    const SeriesScores whole = scorer.score(raw.data(), kRows);
    const SeriesScores head = scorer.score(raw.data(), cut);
    const SeriesScores tail = scorer.score(raw.data() + cut * F, kRows - cut);
    for (auto policy : {StreamInputPolicy::Gap::Restart, StreamInputPolicy::Gap::Bridge}) {
      StreamPoolOptions o;
      o.threshold.method = ThresholdMethod::Static;
      o.threshold.value = 1.0;
      o.input.period = 60;
      o.input.gap = policy;
      StreamPool pool(model, o);
      pool.add_stream(5);
      Recorder rec;
      for (int64_t t = 0; t < kRows; ++t) {
        const SampleStatus st = pool.push(5, ts_of(t), std::span<const double>(raw.data() + t * F, static_cast<std::size_t>(F)), rec);
        CHECK(st == (t == cut ? SampleStatus::AfterGap : SampleStatus::Accepted));
      }
      pool.flush(5, rec);
      CHECK(pool.counters(5).gaps == 1);
      if (policy == StreamInputPolicy::Gap::Bridge) {
        test::check_rows_equal_batch(rec.rows[5], whole.scores, whole.contributions, "bridged");
      } else {
        // Two segments, each scored as its own series (as the batch input policy does).
        std::vector<double> s = head.scores, c = head.contributions;
        s.insert(s.end(), tail.scores.begin(), tail.scores.end());
        c.insert(c.end(), tail.contributions.begin(), tail.contributions.end());
        test::check_rows_equal_batch(rec.rows[5], s, c, "restarted");
      }
    }
  }
}
