// StreamPool under concurrency (docs/streaming.md, "Threads"): one writer thread per shard, plus
// readers (counters, size) and a checkpoint save running at the same time. Every stream's scores
// equal a single-threaded run. Labelled `tsan`: run it under the tsan preset to check the
// locking (ctest --preset tsan -L tsan).
#include <catch2/catch.hpp>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "golden_model.h"
#include "rnnad/stream_pool.h"
#include "scratch_files.h"
#include "stream_recorder.h"

using namespace rnnad;

TEST_CASE("one writer per shard, concurrent readers and a save: the same scores as one thread", "[stream][threads]") {
  auto model = test::golden_model("scoring/preds_gauss_nll");
  const int64_t F = model->config().input_size(), rows = 200;
  const std::size_t shards = 4;
  StreamPoolOptions o;
  o.shards = shards;
  o.max_batch = 8;
  o.threshold.method = ThresholdMethod::Spot;
  o.threshold.spot.level = 0.9;
  o.threshold.spot.q = 1e-2;
  o.threshold.spot.few_peaks = SpotFewPeaks::Fallback;
  o.threshold.calibration_rows = 60;
  StreamPool pool(model, o);
  // 24 streams; each thread owns the streams of its shard.
  std::vector<std::vector<uint64_t>> owned(shards);
  for (uint64_t id = 100; id < 124; ++id) {
    pool.add_stream(id);
    owned[pool.shard_of(id)].push_back(id);
  }
  auto series_of = [&](uint64_t id) { return test::f25_series(rows, F, 0.05 * static_cast<double>(id % 7)); };

  std::vector<test::Recorder> recorders(shards);
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  for (std::size_t k = 0; k < shards; ++k) {
    writers.emplace_back([&, k] {
      std::map<uint64_t, std::vector<double>> series;
      for (uint64_t id : owned[k]) series[id] = series_of(id);
      for (int64_t t = 0; t < rows; ++t) {
        if (t % 2 == 0) {
          for (uint64_t id : owned[k])
            pool.push(id, t, std::span<const double>(series[id].data() + t * F, static_cast<std::size_t>(F)), recorders[k]);
        } else {  // the batch form for this shard's streams
          std::vector<uint64_t> ids = owned[k];
          std::vector<int64_t> ts(ids.size(), t);
          std::vector<double> samples;
          for (uint64_t id : ids) samples.insert(samples.end(), series[id].begin() + t * F, series[id].begin() + (t + 1) * F);
          pool.push_batch(ids, ts, samples, recorders[k]);
        }
      }
    });
  }
  std::thread reader([&] {
    int64_t seen = 0;
    while (!done.load()) {
      seen += pool.counters(100).accepted + static_cast<int64_t>(pool.size());
      std::this_thread::yield();
    }
    CHECK(seen >= 0);
  });
  std::thread saver([&] { pool.save(test::scratch() / "threads.ckpt"); });
  for (auto& w : writers) w.join();
  saver.join();
  done = true;
  reader.join();

  // The reference: one thread, one pool.
  StreamPool single(model, o);
  test::Recorder ref;
  for (uint64_t id = 100; id < 124; ++id) {
    single.add_stream(id);
    const auto s = series_of(id);
    for (int64_t t = 0; t < rows; ++t)
      single.push(id, t, std::span<const double>(s.data() + t * F, static_cast<std::size_t>(F)), ref);
  }
  for (uint64_t id = 100; id < 124; ++id) {
    const auto& got = recorders[pool.shard_of(id)].rows[id];
    const auto& want = ref.rows[id];
    INFO("stream " << id);
    REQUIRE(got.size() == want.size());
    for (std::size_t r = 0; r < got.size(); ++r) {
      CHECK(test::same_score(got[r].score, want[r].score, 1.0));
      CHECK(got[r].verdict == want[r].verdict);
    }
  }
  StreamPool restored(model, o);
  CHECK_NOTHROW(restored.restore(test::scratch() / "threads.ckpt"));
  CHECK(restored.size() == 24);
}
