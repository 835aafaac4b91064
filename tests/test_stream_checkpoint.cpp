// StreamPool checkpoints (docs/streaming.md, "Checkpoints"): after save and restore (into a new
// pool, with another shard count) the streams continue exactly as without the restart; damaged,
// truncated, newer or foreign files are refused before anything changes; a process killed
// (SIGKILL) while saving leaves the previous checkpoint valid.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "golden_model.h"
#include "rnnad/error.h"
#include "rnnad/stream_pool.h"
#include "scratch_files.h"
#include "stream_recorder.h"

using namespace rnnad;
using test::golden_model;
using test::Recorder;

namespace {

constexpr int64_t kRows = 300;

StreamPoolOptions options(ThresholdMethod method, std::size_t shards) {
  StreamPoolOptions o;
  o.shards = shards;
  o.threshold.method = method;
  o.threshold.spot.level = 0.9;
  o.threshold.spot.q = 1e-2;
  if (method == ThresholdMethod::Dspot) o.threshold.spot.depth = 5;
  o.threshold.calibration_rows = 120;
  return o;
}

/// Pushes rows [begin, end) of the series of stream id (id 1: series a, others: b).
void feed(StreamPool& pool, const std::vector<uint64_t>& ids, int64_t F, int64_t begin, int64_t end, Recorder& rec) {
  const auto a = test::f25_series(kRows, F), b = test::f25_series(kRows, F, 0.4);
  for (int64_t t = begin; t < end; ++t)
    for (uint64_t id : ids) {
      const auto& src = id == 1 ? a : b;
      pool.push(id, t, std::span<const double>(src.data() + t * F, static_cast<std::size_t>(F)), rec);
    }
}

std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

uint64_t fnv1a(const std::string& bytes, std::size_t n) {  // docs/streaming.md: the checksum
  uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(bytes[i])) * 0x100000001b3ULL;
  return h;
}

}  // namespace

TEST_CASE("after save and restore the scores continue exactly as without the restart", "[stream][checkpoint]") {
  const std::vector<uint64_t> ids = {1, 2, 3};
  for (const char* name : {"scoring/recon_absolute_mean", "scoring/recon_mahalanobis_max_s2", "scoring/preds_gauss_nll",
                           "scoring/predw_lstm_ad"}) {
    for (auto method : {ThresholdMethod::Static, ThresholdMethod::Spot, ThresholdMethod::Dspot}) {
      INFO(name << ", threshold " << threshold_method_name(method));
      auto model = golden_model(name);
      const int64_t F = model->config().input_size();
      StreamPool original(model, options(method, 2));
      for (uint64_t id : ids) original.add_stream(id);
      Recorder before, unbroken, restored;
      feed(original, ids, F, 0, 170, before);  // past calibration (120 scored rows), with pending window rows
      const auto path = test::scratch() / "pool.ckpt";
      original.save(path);
      StreamPool other(model, options(method, 3));  // another shard count: streams are rehashed
      other.add_stream(42);                          // replaced by the restore
      other.restore(path);
      CHECK(other.size() == ids.size());
      CHECK_FALSE(other.has_stream(42));
      feed(original, ids, F, 170, kRows, unbroken);
      feed(other, ids, F, 170, kRows, restored);
      for (uint64_t id : ids) {
        original.flush(id, unbroken);
        other.flush(id, restored);
        const auto& a = unbroken.rows[id];
        const auto& b = restored.rows[id];
        REQUIRE(a.size() == b.size());
        REQUIRE(!a.empty());
        for (std::size_t r = 0; r < a.size(); ++r) {
          INFO("stream " << id << " row " << a[r].row);
          CHECK(a[r].row == b[r].row);
          CHECK(((std::isnan(a[r].score) && std::isnan(b[r].score)) || a[r].score == b[r].score));
          CHECK(((std::isnan(a[r].threshold) && std::isnan(b[r].threshold)) || a[r].threshold == b[r].threshold));
          CHECK(a[r].verdict == b[r].verdict);
          CHECK(a[r].contributions.size() == b[r].contributions.size());
        }
        CHECK(original.counters(id).accepted == other.counters(id).accepted);
      }
    }
  }
}

TEST_CASE("damaged, truncated, newer and foreign checkpoints are refused and change nothing", "[stream][checkpoint]") {
  auto model = golden_model("scoring/preds_gauss_nll");
  const int64_t F = model->config().input_size();
  StreamPool pool(model, options(ThresholdMethod::Spot, 1));
  pool.add_stream(1);
  Recorder rec;
  feed(pool, {1}, F, 0, 150, rec);
  const auto good = test::scratch() / "good.ckpt";
  pool.save(good);
  const std::string bytes = read_bytes(good);
  REQUIRE(bytes.size() > 64);

  StreamPool target(model, options(ThresholdMethod::Spot, 1));
  target.add_stream(77);
  auto refused = [&](const std::string& file_bytes, const char* label) {
    INFO(label);
    const auto p = test::write_file(std::string(label) + ".ckpt", file_bytes);
    CHECK_THROWS_AS(target.restore(p), Error);
    CHECK(target.has_stream(77));  // unchanged
    CHECK(target.size() == 1);
  };
  std::string flipped = bytes;
  flipped[bytes.size() / 2] = static_cast<char>(flipped[bytes.size() / 2] ^ 0x10);
  refused(flipped, "flipped");
  refused(bytes.substr(0, bytes.size() - 9), "truncated");
  refused(bytes.substr(0, 10), "header-cut");
  refused("not a checkpoint at all, just text...........................", "text");
  CHECK_THROWS_AS(target.restore(test::scratch() / "missing.ckpt"), IoError);

  // A newer version with a valid checksum: UnsupportedError.
  std::string newer = bytes;
  newer[8] = 2;  // version (u32 LE after the 8-byte magic)
  const uint64_t sum = fnv1a(newer, newer.size() - 8);
  std::memcpy(newer.data() + newer.size() - 8, &sum, 8);
  const auto newer_path = test::write_file("newer.ckpt", newer);
  CHECK_THROWS_AS(target.restore(newer_path), UnsupportedError);

  // Another model or other threshold settings.
  StreamPool foreign(golden_model("scoring/preds_absolute"), options(ThresholdMethod::Spot, 1));
  CHECK_THROWS_WITH(foreign.restore(good), Catch::Matchers::Contains("another model"));
  StreamPool other_settings(model, options(ThresholdMethod::Dspot, 1));
  CHECK_THROWS_WITH(other_settings.restore(good), Catch::Matchers::Contains("settings"));

  target.restore(good);
  CHECK(target.has_stream(1));
  CHECK_FALSE(target.has_stream(77));
}

TEST_CASE("a process killed while saving leaves the previous checkpoint valid", "[stream][checkpoint]") {
  auto model = golden_model("scoring/recon_absolute_mean");
  const int64_t F = model->config().input_size();
  StreamPool pool(model, options(ThresholdMethod::Spot, 1));
  std::vector<uint64_t> ids;
  for (uint64_t id = 1; id <= 200; ++id) ids.push_back(id);  // a file of some size (~0.3 MB)
  for (uint64_t id : ids) pool.add_stream(id);
  Recorder rec;
  feed(pool, ids, F, 0, 130, rec);
  const auto path = test::scratch() / "killed.ckpt";
  pool.save(path);
  for (int round = 0; round < 3; ++round) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      for (;;) pool.save(path);  // until killed
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(40 + 30 * round));
    REQUIRE(::kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    StreamPool check(model, options(ThresholdMethod::Spot, 2));
    CHECK_NOTHROW(check.restore(path));
    CHECK(check.size() == ids.size());
    std::filesystem::remove(path.string() + ".tmp." + std::to_string(child));  // the child's unfinished temporary
  }
}
