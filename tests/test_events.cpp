// Grouping flagged rows into events (rnnad/events.h). Expected values computed by hand.
#include <catch2/catch.hpp>
#include <limits>
#include <vector>

#include "rnnad/error.h"
#include "rnnad/events.h"

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

//                               row: 0    1    2    3    4     5    6     7    8     9
const std::vector<double> kScores{0.1, 0.9, 0.8, 0.2, kNaN, 0.7, 0.95, 0.3, 0.85, 0.1};
// Row 4 is flagged but has no score (NaN): it must be ignored.
const std::vector<uint8_t> kFlags{0, 1, 1, 0, 1, 1, 1, 0, 1, 0};

void check_span(const rnnad::Event& e, int64_t start, int64_t end, int64_t flagged, double peak, int64_t peak_index,
                double mean) {
  CHECK(e.start_index == start);
  CHECK(e.end_index == end);
  CHECK(e.length() == end - start + 1);
  CHECK(e.flagged_rows == flagged);
  CHECK(e.peak_score == peak);
  CHECK(e.peak_index == peak_index);
  CHECK(e.mean_score == Approx(mean).margin(1e-12));
}

}  // namespace

TEST_CASE("events: runs of flagged rows, NaN rows never flagged", "[events]") {
  const auto ev = rnnad::find_events({kScores, kFlags});
  // Runs: [1,2] (row 4 is NaN -> not flagged), [5,6], [8,8].
  REQUIRE(ev.size() == 3);
  check_span(ev[0], 1, 2, 2, 0.9, 1, (0.9 + 0.8) / 2);    // mean 0.85
  check_span(ev[1], 5, 6, 2, 0.95, 6, (0.7 + 0.95) / 2);  // mean 0.825
  check_span(ev[2], 8, 8, 1, 0.85, 8, 0.85);
  CHECK_FALSE(ev[0].start_time.has_value());
  CHECK(ev[0].top_features.empty());
}

TEST_CASE("events: merging across short gaps, never across a NaN row", "[events]") {
  SECTION("merge_gap 1 joins [5,6] and [8,8] over row 7") {
    const auto ev = rnnad::find_events({kScores, kFlags}, {.merge_gap = 1});
    REQUIRE(ev.size() == 2);
    check_span(ev[0], 1, 2, 2, 0.9, 1, 0.85);
    // [5,8]: flagged rows 5, 6, 8 = 3; mean over all 4 rows (0.7+0.95+0.3+0.85)/4 = 2.8/4 = 0.7.
    check_span(ev[1], 5, 8, 3, 0.95, 6, 0.7);
  }
  SECTION("merge_gap 2: the gap rows 3-4 hold a NaN row, so [1,2] stays apart") {
    const auto ev = rnnad::find_events({kScores, kFlags}, {.merge_gap = 2});
    REQUIRE(ev.size() == 2);
    check_span(ev[0], 1, 2, 2, 0.9, 1, 0.85);
    check_span(ev[1], 5, 8, 3, 0.95, 6, 0.7);
  }
  SECTION("without the NaN row, merge_gap 2 joins everything") {
    std::vector<double> s = kScores;
    s[4] = 0.4;
    std::vector<uint8_t> f = kFlags;
    f[4] = 0;
    const auto ev = rnnad::find_events({s, f}, {.merge_gap = 2});
    REQUIRE(ev.size() == 1);
    // [1,8]: flagged 1,2,5,6,8 = 5; mean (0.9+0.8+0.2+0.4+0.7+0.95+0.3+0.85)/8 = 5.1/8 = 0.6375.
    check_span(ev[0], 1, 8, 5, 0.95, 6, 0.6375);
  }
  SECTION("min_length drops short events (after merging)") {
    const auto a = rnnad::find_events({kScores, kFlags}, {.min_length = 2});
    REQUIRE(a.size() == 2);  // [1,2], [5,6]; [8,8] dropped
    CHECK(a[1].end_index == 6);
    const auto b = rnnad::find_events({kScores, kFlags}, {.merge_gap = 1, .min_length = 3});
    REQUIRE(b.size() == 1);  // [5,8] (4 rows); [1,2] dropped
    CHECK(b[0].start_index == 5);
  }
}

TEST_CASE("events: timestamps, boundaries, ties", "[events]") {
  std::vector<int64_t> ts;
  for (int64_t i = 0; i < 10; ++i) ts.push_back(1000 + 60 * i);
  const auto ev = rnnad::find_events({.scores = kScores, .flags = kFlags, .timestamps = ts}, {.merge_gap = 1});
  REQUIRE(ev.size() == 2);
  CHECK(ev[1].start_time == 1000 + 60 * 5);
  CHECK(ev[1].end_time == 1000 + 60 * 8);

  // Flags at the first and last rows; equal peaks keep the first row.
  const std::vector<double> s{0.5, 0.5, 0.1, 0.7};
  const std::vector<uint8_t> f{1, 1, 0, 1};
  const auto e2 = rnnad::find_events({s, f});
  REQUIRE(e2.size() == 2);
  check_span(e2[0], 0, 1, 2, 0.5, 0, 0.5);
  check_span(e2[1], 3, 3, 1, 0.7, 3, 0.7);
  CHECK(rnnad::find_events({std::vector<double>{}, std::vector<uint8_t>{}}).empty());
  CHECK(rnnad::find_events({s, std::vector<uint8_t>(4, 0)}).empty());
}

TEST_CASE("events: top contributing features", "[events]") {
  // 10 rows x 3 features. Row 4 (no score) has NaN contributions: it is in no event.
  const std::vector<double> c{
      9,    9,    9,     // 0
      0.5,  0.5,  0,     // 1
      0,    1,    0,     // 2
      9,    9,    9,     // 3
      kNaN, kNaN, kNaN,  // 4
      1,    2,    0,     // 5
      3,    0,    4,     // 6
      9,    9,    9,     // 7
      0,    0,    0,     // 8
      9,    9,    9,     // 9
  };
  rnnad::EventInputs in{.scores = kScores, .flags = kFlags, .contributions = c, .features = 3};
  const auto ev = rnnad::find_events(in, {.top_k = 3});
  REQUIRE(ev.size() == 3);
  // Event [1,2]: sums f0 0.5, f1 1.5, f2 0; total 2 -> f1 0.75, f0 0.25, f2 0.
  REQUIRE(ev[0].top_features.size() == 3);
  CHECK(ev[0].top_features[0].feature == 1);
  CHECK(ev[0].top_features[0].sum == Approx(1.5));
  CHECK(ev[0].top_features[0].share == Approx(0.75));
  CHECK(ev[0].top_features[1].feature == 0);
  CHECK(ev[0].top_features[1].share == Approx(0.25));
  CHECK(ev[0].top_features[2].feature == 2);
  CHECK(ev[0].top_features[2].share == 0.0);
  // Event [5,6]: sums f0 1+3 = 4, f1 2+0 = 2, f2 0+4 = 4; total 10. Tie f0/f2 -> lower index
  // first: f0 0.4, f2 0.4, f1 0.2.
  CHECK(ev[1].top_features[0].feature == 0);
  CHECK(ev[1].top_features[0].share == Approx(0.4));
  CHECK(ev[1].top_features[1].feature == 2);
  CHECK(ev[1].top_features[1].share == Approx(0.4));
  CHECK(ev[1].top_features[2].feature == 1);
  CHECK(ev[1].top_features[2].share == Approx(0.2));
  // Event [8,8]: all zero -> shares 0 (no division by zero), ranking by index.
  CHECK(ev[2].top_features[0].feature == 0);
  CHECK(ev[2].top_features[0].share == 0.0);
  // top_k = 2 keeps the two largest; merged event [5,8] adds rows 7 (9,9,9) and 8 (0,0,0):
  // sums f0 13, f1 11, f2 13 -> f0, f2 (tie, lower index first); total 37 -> 13/37.
  const auto m = rnnad::find_events(in, {.merge_gap = 1, .top_k = 2});
  REQUIRE(m.size() == 2);
  REQUIRE(m[1].top_features.size() == 2);
  CHECK(m[1].top_features[0].feature == 0);
  CHECK(m[1].top_features[1].feature == 2);
  CHECK(m[1].top_features[1].share == Approx(13.0 / 37));
  // top_k larger than the number of features reports every feature.
  CHECK(rnnad::find_events(in, {.top_k = 10})[0].top_features.size() == 3);
  CHECK(rnnad::find_events(in, {.top_k = 0})[0].top_features.empty());
}

TEST_CASE("events: argument errors", "[events]") {
  CHECK_THROWS_AS(rnnad::find_events({kScores, std::vector<uint8_t>(9, 0)}), rnnad::ShapeError);
  const std::vector<int64_t> ts(3, 0);
  CHECK_THROWS_AS(rnnad::find_events({.scores = kScores, .flags = kFlags, .timestamps = ts}), rnnad::ShapeError);
  const std::vector<double> c(29, 0.0);
  CHECK_THROWS_AS(rnnad::find_events({.scores = kScores, .flags = kFlags, .contributions = c, .features = 3}),
                  rnnad::ShapeError);
  CHECK_THROWS_AS(rnnad::find_events({kScores, kFlags}, {.merge_gap = -1}), rnnad::Error);
  CHECK_THROWS_AS(rnnad::find_events({kScores, kFlags}, {.min_length = 0}), rnnad::Error);
  CHECK_THROWS_AS(rnnad::find_events({kScores, kFlags}, {.top_k = -1}), rnnad::Error);
  // A non-finite contribution inside an event names the row and feature.
  std::vector<double> bad(30, 1.0);
  bad[6 * 3 + 2] = std::numeric_limits<double>::infinity();
  try {
    rnnad::find_events({.scores = kScores, .flags = kFlags, .contributions = bad, .features = 3});
    FAIL("expected rnnad::Error");
  } catch (const rnnad::Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("row 6") != std::string::npos);
    CHECK(msg.find("feature 2") != std::string::npos);
  }
}
