// StreamPool steps allocate nothing (design.md §5; docs/streaming.md, "Allocation"): push() and
// push_batch() on every kind that streams, once the streams exist and their SPOT thresholds are
// calibrated (calibration sizes Spot's rings once), counted by the malloc interposer.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "golden_model.h"
#include "alloc_counter.h"
#include "rnnad/stream_pool.h"
#include "stream_recorder.h"

using namespace rnnad;

TEST_CASE("stream steps allocate nothing", "[stream][alloc]") {
  REQUIRE(test::allocation_counting_works());
  for (const char* name : {"scoring/recon_absolute_mean", "scoring/attn_mahalanobis_mean", "scoring/predw_lstm_ad",
                           "scoring/preds_gauss_nll", "models/pred_lstm_point_stateful_l2"}) {
    auto model = test::golden_model(name);
    const int64_t F = model->config().input_size();
    for (auto method : {ThresholdMethod::Static, ThresholdMethod::Dspot}) {
      StreamPoolOptions o;
      o.shards = 2;
      o.max_batch = 4;
      o.threshold.method = method;
      o.threshold.spot.level = 0.9;
      o.threshold.spot.q = 1e-2;
      o.threshold.spot.depth = 5;
      o.threshold.spot.few_peaks = SpotFewPeaks::Fallback;
      o.threshold.calibration_rows = 60;
      o.input.missing = StreamInputPolicy::Missing::Ffill;
      o.input.period = 1;
      StreamPool pool(model, o);
      const std::vector<uint64_t> ids = {11, 12, 13, 14, 15, 16};
      for (uint64_t id : ids) pool.add_stream(id);
      const int64_t rows = 300;
      const auto raw = test::f25_series(rows, F);
      int64_t emitted = 0;
      auto sink = [&](const ScoredRow& r) { emitted += r.contributions.empty() ? 0 : 1; };
      std::vector<uint64_t> batch_ids;
      std::vector<int64_t> ts;
      std::vector<double> samples;
      std::vector<SampleStatus> status(ids.size());
      auto step = [&](int64_t t) {  // one push per stream, then one push_batch of all
        for (uint64_t id : ids)
          pool.push(id, 2 * t, std::span<const double>(raw.data() + t * F, static_cast<std::size_t>(F)), sink);
        batch_ids.clear();
        ts.clear();
        samples.clear();
        for (uint64_t id : ids) {
          batch_ids.push_back(id);
          ts.push_back(2 * t + 1);
          samples.insert(samples.end(), raw.begin() + t * F, raw.begin() + (t + 1) * F);
        }
        pool.push_batch(batch_ids, ts, samples, sink, status);
      };
      batch_ids.reserve(ids.size());
      ts.reserve(ids.size());
      samples.reserve(ids.size() * static_cast<std::size_t>(F));
      for (int64_t t = 0; t < 100; ++t) step(t);  // calibration completes here
      const std::vector<double> nan_sample(static_cast<std::size_t>(F), std::numeric_limits<double>::quiet_NaN());
      test::AllocationRegion region;
      for (int64_t t = 100; t < rows; ++t) step(t);
      pool.push(11, 10000, nan_sample, sink);  // forward-filled, after a gap: restart
      pool.push(11, 10000, nan_sample, sink);  // duplicate
      pool.push(999, 1, nan_sample, sink);     // unknown stream
      pool.flush(12, sink);
      region.stop();
      INFO(name << ", " << threshold_method_name(method) << ": " << emitted << " rows emitted");
      CHECK(region.count() == 0);
      CHECK(emitted > 0);
    }
  }
}
