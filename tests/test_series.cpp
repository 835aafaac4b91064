// Series preparation: the input policy (missing values, timestamps, gaps, segments) and the
// model-fit check (rnnad/series.h, docs/input.md), on series built in memory. Field case F10;
// F15 and F17 from their CSV files are in test_csv_reader.cpp.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "rnnad/error.h"
#include "rnnad/labels.h"
#include "rnnad/series.h"
#include "scratch_files.h"

using rnnad::DuplicatePolicy;
using rnnad::InputPolicy;
using rnnad::MissingPolicy;
using rnnad::OrderPolicy;
using rnnad::PrepareReport;
using rnnad::Series;
using rnnad::SeriesSegment;
using rnnad::test::require_format_error;
using rnnad::test::require_throws;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
const int64_t kT0 = rnnad::parse_timestamp("2024-06-01 10:00:00", "test");

/// A series as a CSV with a header and a timestamp in column 1 reads: row r is line r + 2 and
/// feature f is column f + 2. `minutes` are offsets from kT0 (empty: no timestamps).
Series make_series(const std::vector<int64_t>& minutes, std::vector<float> values,
                   std::vector<std::string> names = {"value"}) {
  Series s;
  s.source = "s.csv";
  s.columns = std::move(names);
  for (std::size_t f = 0; f < s.columns.size(); ++f) s.column_numbers.push_back(static_cast<int64_t>(f) + 2);
  s.values = std::move(values);
  for (int64_t r = 0; r < s.rows(); ++r) s.lines.push_back(r + 2);
  if (!minutes.empty()) {
    s.timestamp_column = "timestamp";
    s.timestamp_column_number = 1;
    for (int64_t m : minutes) s.timestamps.push_back(kT0 + 60 * m);
  }
  return s;
}

std::vector<int64_t> minutes_of(const Series& s) {
  std::vector<int64_t> m;
  for (int64_t t : s.timestamps) m.push_back((t - kT0) / 60);
  return m;
}

InputPolicy with_missing(MissingPolicy p) {
  InputPolicy policy;
  policy.missing = p;
  return policy;
}

InputPolicy with_time(OrderPolicy order, DuplicatePolicy duplicates) {
  InputPolicy policy;
  policy.order = order;
  policy.duplicates = duplicates;
  return policy;
}

}  // namespace

TEST_CASE("A series' shape is checked before anything else", "[series]") {
  Series s = make_series({}, {1, 2, 3, 4}, {"a", "b"});
  CHECK(s.rows() == 2);
  CHECK(s.where(1) == "s.csv:3");
  CHECK(s.where(1, 1) == "s.csv:3:3: column 'b'");
  s.values.push_back(5);
  require_throws<rnnad::ShapeError>([&] { rnnad::prepare_series(s); }, {"s.csv: values are not [rows, 2]"});
  s.values.pop_back();
  s.timestamps = {1};
  require_throws<rnnad::ShapeError>([&] { rnnad::prepare_series(s); }, {"s.csv: 1 timestamps for 2 rows"});
  Series none = make_series({}, {}, {});
  require_throws<rnnad::ShapeError>([&] { rnnad::prepare_series(none); }, {"s.csv: the series has no value column"});
  Series empty = make_series({}, {});
  require_throws<rnnad::ShapeError>([&] { rnnad::prepare_series(empty); }, {"s.csv: the series has no rows"});
  // A series built in code without lines: its row numbers (1-based) stand in for lines.
  Series code = make_series({}, {1, kNaN});
  code.lines.clear();
  CHECK(code.where(1) == "s.csv: row 1");
  require_format_error([&] { rnnad::prepare_series(code); }, {"s.csv:2:2: column 'value': missing value"});
}

TEST_CASE("A clean series passes unchanged: one segment, no notes", "[series]") {
  Series s = make_series({0, 1, 2, 3}, {1, 2, 3, 4});
  const PrepareReport r = rnnad::prepare_series(s);
  CHECK(s.values == std::vector<float>{1, 2, 3, 4});
  CHECK(r.segments == std::vector<SeriesSegment>{{0, 4}});
  CHECK(r.median_step == 60);
  CHECK(r.notes.empty());
  CHECK(r.filled.empty());
  CHECK(r.dropped.empty());
  CHECK(r.gaps.empty());
  // Without timestamps: rows are indices, one segment, no median step.
  Series plain = make_series({}, {1, 2, 3});
  const PrepareReport rp = rnnad::prepare_series(plain);
  CHECK(rp.segments == std::vector<SeriesSegment>{{0, 3}});
  CHECK(rp.median_step == 0);
}

TEST_CASE("Infinite values are errors under every policy", "[series]") {
  Series s = make_series({}, {1, 2, INFINITY, 4}, {"a", "b"});
  require_format_error([&] { rnnad::prepare_series(s, with_missing(MissingPolicy::Interpolate)); },
                       {"s.csv:3:2: column 'a': value is infinite"});
}

TEST_CASE("Missing values: an error by default naming the first cell and the count", "[series][missing]") {
  Series s = make_series({0, 1, 2, 3}, {1, 10, kNaN, 20, 3, kNaN, kNaN, 40}, {"a", "b"});
  require_format_error([&] { rnnad::prepare_series(s); },
                       {"s.csv:3:2: column 'a': missing value (empty or NaN cell); 3 missing cells in all; "
                        "choose interpolate or ffill"});
}

TEST_CASE("Missing values: interpolation is linear in row position; the ends take the nearest value",
          "[series][missing]") {
  // rows:        0    1  2    3    4  5    6
  Series s = make_series({}, {kNaN, 1, kNaN, kNaN, 4, kNaN, kNaN});
  const PrepareReport r = rnnad::prepare_series(s, with_missing(MissingPolicy::Interpolate));
  // Leading row 0 takes row 1's value; rows 2, 3 = 1 + (4 − 1)·k/3; trailing rows 5, 6 take row 4's.
  CHECK(s.values == std::vector<float>{1, 1, 2, 3, 4, 4, 4});
  REQUIRE(r.filled.size() == 5);
  CHECK(r.filled[0] == rnnad::FilledCell{0, 0, 2});
  CHECK(r.filled[4] == rnnad::FilledCell{6, 0, 8});
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0] ==
        "s.csv: filled 5 missing cells (interpolate) at line 2 'value', line 4 'value', line 5 'value', "
        "line 7 'value', line 8 'value'");
  // Fractions are computed in double and rounded once: 0 + (1 − 0)·1/3 = float(1/3).
  Series third = make_series({}, {0, kNaN, kNaN, 1});
  rnnad::prepare_series(third, with_missing(MissingPolicy::Interpolate));
  CHECK(third.values[1] == static_cast<float>(1.0 / 3.0));
  CHECK(third.values[2] == static_cast<float>(2.0 / 3.0));
}

TEST_CASE("Missing values: forward fill; leading cells take the first value", "[series][missing]") {
  Series s = make_series({}, {kNaN, 5, 10, kNaN, kNaN, 7, 8, kNaN}, {"a", "b"});
  // a: NaN 10 NaN 8 -> 10 10 10 8;  b: 5 NaN 7 NaN -> 5 5 7 7
  const PrepareReport r = rnnad::prepare_series(s, with_missing(MissingPolicy::ForwardFill));
  CHECK(s.values == std::vector<float>{10, 5, 10, 5, 10, 7, 8, 7});
  REQUIRE(r.filled.size() == 4);  // by row, then feature
  CHECK(r.filled[0] == rnnad::FilledCell{0, 0, 2});
  CHECK(r.filled[1] == rnnad::FilledCell{1, 1, 3});
  CHECK(r.filled[2] == rnnad::FilledCell{2, 0, 4});
  CHECK(r.filled[3] == rnnad::FilledCell{3, 1, 5});
}

TEST_CASE("Missing values are filled inside their segment, never across a gap", "[series][missing][gaps]") {
  // Steps 1 min, then a 60-minute gap before row 3.
  Series s = make_series({0, 1, 2, 62, 63, 64}, {1, 2, kNaN, kNaN, 8, 9});
  const PrepareReport r = rnnad::prepare_series(s, with_missing(MissingPolicy::Interpolate));
  REQUIRE(r.segments == std::vector<SeriesSegment>{{0, 3}, {3, 6}});
  CHECK(s.values == std::vector<float>{1, 2, 2, 8, 8, 9});  // row 2: last of its segment; row 3: first of its own
  // Bridged: one segment, so rows 2 and 3 are interpolated between 2 and 8.
  Series b = make_series({0, 1, 2, 62, 63, 64}, {1, 2, kNaN, kNaN, 8, 9});
  InputPolicy bridge = with_missing(MissingPolicy::Interpolate);
  bridge.bridge_gaps = true;
  const PrepareReport rb = rnnad::prepare_series(b, bridge);
  CHECK(rb.segments == std::vector<SeriesSegment>{{0, 6}});
  CHECK(b.values == std::vector<float>{1, 2, 4, 6, 8, 9});
  // A column with no value in a segment: nothing to fill from.
  Series empty = make_series({0, 1, 2, 62, 63}, {1, 2, 3, kNaN, kNaN});
  require_format_error([&] { rnnad::prepare_series(empty, with_missing(MissingPolicy::ForwardFill)); },
                       {"s.csv:5:2: column 'value': no value in lines 5-6 (rows [3, 5)): nothing to fill"});
}

TEST_CASE("Duplicate timestamps: error, keep-first, keep-last", "[series][timestamps]") {
  const std::vector<int64_t> minutes{0, 1, 1, 1, 2};
  const std::vector<float> values{10, 11, 12, 13, 14};
  Series strict = make_series(minutes, values);
  require_format_error([&] { rnnad::prepare_series(strict); },
                       {"s.csv:4:1: duplicate timestamp 2024-06-01 10:01:00 (also on line 3); choose keep-first or "
                        "keep-last"});

  Series first = make_series(minutes, values);
  const PrepareReport rf = rnnad::prepare_series(first, with_time(OrderPolicy::Error, DuplicatePolicy::KeepFirst));
  CHECK(first.values == std::vector<float>{10, 11, 14});
  CHECK(first.lines == std::vector<int64_t>{2, 3, 6});
  CHECK(minutes_of(first) == std::vector<int64_t>{0, 1, 2});
  const int64_t t1 = kT0 + 60;
  CHECK(rf.dropped == std::vector<rnnad::DroppedRow>{{4, 3, t1}, {5, 3, t1}});
  REQUIRE(rf.notes.size() == 1);
  CHECK(rf.notes[0] ==
        "s.csv: dropped 2 rows with a repeated timestamp (keep-first): line 4 (kept line 3), line 5 "
        "(kept line 3)");

  Series last = make_series(minutes, values);
  const PrepareReport rl = rnnad::prepare_series(last, with_time(OrderPolicy::Error, DuplicatePolicy::KeepLast));
  CHECK(last.values == std::vector<float>{10, 13, 14});
  CHECK(last.lines == std::vector<int64_t>{2, 5, 6});
  CHECK(rl.dropped == std::vector<rnnad::DroppedRow>{{3, 5, t1}, {4, 5, t1}});
}

TEST_CASE("Out-of-order timestamps: error, stable sort, or ignore", "[series][timestamps]") {
  const std::vector<int64_t> minutes{0, 2, 1, 3, 1};
  const std::vector<float> values{10, 12, 11, 13, 15};
  Series strict = make_series(minutes, values);
  require_format_error([&] { rnnad::prepare_series(strict); },
                       {"s.csv:4:1: timestamp not increasing: 2024-06-01 10:01:00 after 2024-06-01 10:02:00 on line "
                        "3; choose sort"});
  // Sort alone: minute 1 appears twice after sorting, and duplicates are still an error.
  Series sorted_dup = make_series(minutes, values);
  require_format_error([&] { rnnad::prepare_series(sorted_dup, with_time(OrderPolicy::Sort, DuplicatePolicy::Error)); },
                       {"s.csv:6:1: duplicate timestamp 2024-06-01 10:01:00 (also on line 4)"});
  // Sort + keep-last: stable, so of the two minute-1 rows (lines 4, 6) the later line is kept.
  Series sorted = make_series(minutes, values);
  const PrepareReport r = rnnad::prepare_series(sorted, with_time(OrderPolicy::Sort, DuplicatePolicy::KeepLast));
  CHECK(minutes_of(sorted) == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(sorted.values == std::vector<float>{10, 15, 12, 13});
  CHECK(sorted.lines == std::vector<int64_t>{2, 6, 3, 5});
  CHECK(r.reordered_lines == std::vector<int64_t>{4, 6});
  CHECK(r.dropped == std::vector<rnnad::DroppedRow>{{4, 6, kT0 + 60}});
  REQUIRE(r.notes.size() == 2);
  CHECK(r.notes[0] == "s.csv: sorted by timestamp: 2 rows were out of order (lines 4, 6)");
  // Ignore: file order, nothing checked, one segment.
  Series ignored = make_series(minutes, values);
  const PrepareReport ri = rnnad::prepare_series(ignored, with_time(OrderPolicy::Ignore, DuplicatePolicy::Error));
  CHECK(ignored.values == values);
  CHECK(minutes_of(ignored) == minutes);
  CHECK(ri.segments == std::vector<SeriesSegment>{{0, 5}});
  CHECK(ri.median_step == 0);
  CHECK(ri.notes.empty());
}

TEST_CASE("Gaps: a step above gap_factor x the median step splits the series", "[series][gaps]") {
  // Steps (minutes): 1, 1, 3, 1, 4, 1 -> lower median of 6 steps = 1 (sorted 1 1 1 1 3 4, element 2).
  const std::vector<int64_t> minutes{0, 1, 2, 5, 6, 10, 11};
  Series s = make_series(minutes, std::vector<float>(7, 1.0f));
  const PrepareReport r = rnnad::prepare_series(s);  // gap_factor 3: a step of exactly 3 is not a gap
  CHECK(r.median_step == 60);
  REQUIRE(r.gaps.size() == 1);
  CHECK(r.gaps[0].row == 5);
  CHECK(r.gaps[0].line_before == 6);
  CHECK(r.gaps[0].line_after == 7);
  CHECK(r.gaps[0].step() == 240);
  CHECK(r.segments == std::vector<SeriesSegment>{{0, 5}, {5, 7}});
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0] == "s.csv: gap of 4m between lines 6 and 7 (median step 1m); windows do not cross it");

  InputPolicy tight;
  tight.gap_factor = 2.5;  // now the 3-minute step is a gap too
  Series s2 = make_series(minutes, std::vector<float>(7, 1.0f));
  const PrepareReport r2 = rnnad::prepare_series(s2, tight);
  CHECK(r2.segments == std::vector<SeriesSegment>{{0, 3}, {3, 5}, {5, 7}});

  InputPolicy bridged;
  bridged.bridge_gaps = true;
  Series s3 = make_series(minutes, std::vector<float>(7, 1.0f));
  const PrepareReport r3 = rnnad::prepare_series(s3, bridged);
  CHECK(r3.gaps.size() == 1);
  CHECK(r3.segments == std::vector<SeriesSegment>{{0, 7}});
  CHECK(r3.notes[0] == "s.csv: gap of 4m between lines 6 and 7 (median step 1m); bridged: windows may cross it");

  for (const double bad : {1.0, 0.5, static_cast<double>(NAN), static_cast<double>(INFINITY)}) {
    InputPolicy p;
    p.gap_factor = bad;
    Series s4 = make_series(minutes, std::vector<float>(7, 1.0f));
    require_throws<rnnad::Error>([&] { rnnad::prepare_series(s4, p); }, {"gap_factor must be a finite number > 1"});
  }
}

TEST_CASE("Durations in messages", "[series]") {
  CHECK(rnnad::format_duration(0) == "0s");
  CHECK(rnnad::format_duration(45) == "45s");
  CHECK(rnnad::format_duration(300) == "5m");
  CHECK(rnnad::format_duration(330) == "5m30s");
  CHECK(rnnad::format_duration(9000) == "2h30m");
  CHECK(rnnad::format_duration(3600) == "1h");
  CHECK(rnnad::format_duration(3 * 86400 + 22 * 3600 + 30 * 60) == "3 days 22:30");
  CHECK(rnnad::format_duration(86400 + 5) == "1 day 00:00:05");
  CHECK_THROWS_AS(rnnad::format_duration(-1), rnnad::Error);
}

TEST_CASE("Policy names round-trip; unknown names list the choices", "[series]") {
  for (auto p : {MissingPolicy::Error, MissingPolicy::Interpolate, MissingPolicy::ForwardFill})
    CHECK(rnnad::parse_missing_policy(rnnad::policy_name(p)) == p);
  for (auto p : {OrderPolicy::Error, OrderPolicy::Sort, OrderPolicy::Ignore})
    CHECK(rnnad::parse_order_policy(rnnad::policy_name(p)) == p);
  for (auto p : {DuplicatePolicy::Error, DuplicatePolicy::KeepFirst, DuplicatePolicy::KeepLast})
    CHECK(rnnad::parse_duplicate_policy(rnnad::policy_name(p)) == p);
  CHECK_THROWS_WITH(rnnad::parse_missing_policy("zero"),
                    "unknown missing-value policy 'zero' (expected error, interpolate, ffill)");
  CHECK_THROWS_WITH(rnnad::parse_duplicate_policy("first"),
                    "unknown duplicate-timestamp policy 'first' (expected error, keep-first, keep-last)");
}

// ---------------------------------------------------------------------------------------------
// Field case F10: series shorter than the model window
// ---------------------------------------------------------------------------------------------

namespace {

rnnad::ModelConfig autoencoder(int64_t T, int64_t features = 1) {
  rnnad::ModelConfig c;
  c.model_kind = rnnad::ModelKind::Reconstruction;
  c.reconstruction.seq_len = T;
  c.reconstruction.input_size = features;
  return c;
}

rnnad::ModelConfig forecaster(int64_t T, int64_t horizon = 1) {
  rnnad::ModelConfig c;
  c.model_kind = rnnad::ModelKind::Prediction;
  c.prediction.seq_len = T;
  c.prediction.input_size = 1;
  c.prediction.horizon = horizon;
  c.prediction.targets = {0};
  return c;
}

/// F10's values, the first n of them (cycled).
Series f10_series(int64_t n) {
  const std::vector<float> v{3.1f, 3.3f, 3.0f, 3.2f, 3.4f, 3.1f, 3.2f};
  std::vector<float> values;
  for (int64_t i = 0; i < n; ++i) values.push_back(v[static_cast<std::size_t>(i) % v.size()]);
  return make_series({}, values);
}

rnnad::ModelFit fit(Series s, const rnnad::ModelConfig& c) {
  const PrepareReport r = rnnad::prepare_series(s);
  return rnnad::check_model_fit(s, r, c);
}

}  // namespace

TEST_CASE("F10: series shorter than the model window", "[series][field]") {
  SECTION("N = 7: an error naming N and the length needed, autoencoder and forecaster") {
    require_throws<rnnad::ShapeError>([] { fit(f10_series(7), autoencoder(10)); },
                                      {"s.csv: series has 7 rows, the model's window needs 10"});
    require_throws<rnnad::ShapeError>(
        [] { fit(f10_series(7), forecaster(10)); },
        {"s.csv: series has 7 rows, the model needs 11 (a window of 10 and 1 row to predict)"});
  }
  SECTION("N = 10: the autoencoder has its window; the forecaster needs one more row") {
    const rnnad::ModelFit f = fit(f10_series(10), autoencoder(10));
    CHECK(f.rows_needed == 10);
    CHECK(f.usable == std::vector<SeriesSegment>{{0, 10}});
    CHECK(f.skipped.empty());
    require_throws<rnnad::ShapeError>([] { fit(f10_series(10), forecaster(10)); },
                                      {"series has 10 rows, the model needs 11"});
  }
  SECTION("N = 11: the forecaster fits") {
    const rnnad::ModelFit f = fit(f10_series(11), forecaster(10));
    CHECK(f.rows_needed == 11);
    CHECK(f.usable == std::vector<SeriesSegment>{{0, 11}});
  }
  SECTION("lstm_ad needs every horizon forecast of a row; a stateful forecaster needs no window") {
    rnnad::ModelConfig c = forecaster(10, 3);
    c.has_scoring = true;
    c.scoring.method = rnnad::ScoringConfig::Method::LstmAd;
    CHECK(rnnad::rows_needed(c) == 13);
    require_throws<rnnad::ShapeError>(
        [&] { fit(f10_series(12), c); },
        {"series has 12 rows, the model needs 13 (a window of 10 and 3 rows to predict)"});
    rnnad::ModelConfig stateful = forecaster(0);
    stateful.prediction.state = rnnad::PredictionConfig::State::Stateful;
    CHECK(rnnad::rows_needed(stateful) == 2);
    require_throws<rnnad::ShapeError>(
        [&] { fit(f10_series(1), stateful); },
        {"series has 1 row, the model needs 2 (1 row to predict from and 1 row to predict)"});
  }
  SECTION("per segment: short segments are skipped with a note; none long enough is an error") {
    // Minutes 0..6, then a gap, then 20..31: segments of 7 and 12 rows.
    std::vector<int64_t> minutes;
    for (int64_t m = 0; m < 7; ++m) minutes.push_back(m);
    for (int64_t m = 20; m < 32; ++m) minutes.push_back(m);
    const Series s = make_series(minutes, std::vector<float>(minutes.size(), 3.0f));
    const rnnad::ModelFit f = fit(s, autoencoder(10));
    CHECK(f.usable == std::vector<SeriesSegment>{{7, 19}});
    CHECK(f.skipped == std::vector<SeriesSegment>{{0, 7}});
    REQUIRE(f.notes.size() == 1);
    CHECK(f.notes[0] == "s.csv:2: segment of 7 rows (rows [0, 7)) skipped: the model's window needs 10");
    require_throws<rnnad::ShapeError>(
        [&] { fit(s, autoencoder(13)); },
        {"s.csv: no segment can hold a window: the series has 19 rows in 2 segments split at gaps, the longest has "
         "12 rows (lines 9-20), the model's window needs 13; bridging the gaps joins them"});
  }
}

TEST_CASE("Model fit: the feature count must match; names that differ give a note", "[series]") {
  const Series s = make_series({}, std::vector<float>(30, 1.0f), {"temp_c", "pressure_kpa", "valve"});
  rnnad::ModelConfig two = autoencoder(5, 2);
  require_throws<rnnad::ShapeError>([&] { fit(s, two); },
                                    {"s.csv: the series has 3 value columns (temp_c, pressure_kpa, valve), the model's "
                                     "input_size is 2 (it names no features)"});
  two.normalization.features = {"temp_c", "pressure_kpa"};
  require_throws<rnnad::ShapeError>([&] { fit(s, two); }, {"input_size is 2 (features temp_c, pressure_kpa)"});
  rnnad::ModelConfig three = autoencoder(5, 3);
  three.normalization.features = {"temp_c", "valve", "pressure_kpa"};
  const rnnad::ModelFit f = fit(s, three);
  REQUIRE(f.notes.size() == 1);
  CHECK(f.notes[0] ==
        "s.csv: columns temp_c, pressure_kpa, valve are read as the model's features temp_c, valve, "
        "pressure_kpa, in this order");
}
