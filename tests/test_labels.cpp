// Label readers, timestamps, label runs and HitRate@P% (rnnad/labels.h).
// Expected numbers are computed by hand (arithmetic in the comments) or are documented facts of
// the datasets (../shared/data/README.md). Real-data cases need RNNAD_DATA_DIR (set by CTest;
// by hand: export RNNAD_DATA_DIR=/work/shared/data) and FAIL without it.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "rnnad/error.h"
#include "rnnad/labels.h"
#include "scratch_files.h"

namespace fs = std::filesystem;
using rnnad::RowRange;
using rnnad::test::require_format_error;
using rnnad::test::scratch;
using rnnad::test::write_file;

namespace {

fs::path data_dir() {
  const char* env = std::getenv("RNNAD_DATA_DIR");
  if (env == nullptr || *env == '\0')
    FAIL(
        "RNNAD_DATA_DIR is not set: the real-data label checks need the shared datasets "
        "(CTest sets it; by hand: export RNNAD_DATA_DIR=/work/shared/data)");
  const fs::path dir(env);
  if (!fs::exists(dir / "nab") || !fs::exists(dir / "smd") || !fs::exists(dir / "asd"))
    FAIL("RNNAD_DATA_DIR=" << dir.string() << " does not hold nab/, smd/ and asd/");
  return dir;
}

}  // namespace

TEST_CASE("label_runs finds maximal runs", "[labels]") {
  // 0 1 1 0 0 1 0 1 1 1   -> runs [1,2], [5,5], [7,9]
  const std::vector<uint8_t> l{0, 1, 1, 0, 0, 1, 0, 1, 1, 1};
  CHECK(rnnad::label_runs(l) == std::vector<RowRange>{{1, 2}, {5, 5}, {7, 9}});
  CHECK(rnnad::label_runs(std::vector<uint8_t>{}).empty());
  CHECK(rnnad::label_runs(std::vector<uint8_t>{0, 0}).empty());
  CHECK(rnnad::label_runs(std::vector<uint8_t>{1, 1}) == std::vector<RowRange>{{0, 1}});
}

TEST_CASE("parse_timestamp: hand-computed epoch seconds", "[labels][timestamp]") {
  CHECK(rnnad::parse_timestamp("1970-01-01 00:00:00", "t") == 0);
  CHECK(rnnad::parse_timestamp("1969-12-31 23:59:59", "t") == -1);
  // 2014-04-01: 1970..2013 = 44 years with 11 leap days (1972..2012) -> 44*365 + 11 = 16071
  // days, + Jan 31 + Feb 28 + Mar 31 = 90 -> 16161 days * 86400 = 1396310400.
  CHECK(rnnad::parse_timestamp("2014-04-01 00:00:00", "t") == 1396310400);
  CHECK(rnnad::parse_timestamp("2014-04-01 00:00:00.000000", "t") == 1396310400);
  CHECK(rnnad::parse_timestamp("2014-04-01 00:00:00.0", "t") == 1396310400);
  // 2000-02-29 12:34:56: 1970..1999 = 30 years + 7 leap days = 10957 days; + 31 + 28 = 59 ->
  // 11016 days = 951782400 s; + 12*3600 + 34*60 + 56 = 45296 -> 951827696.
  CHECK(rnnad::parse_timestamp("2000-02-29 12:34:56", "t") == 951827696);
  CHECK(rnnad::format_timestamp(951827696) == "2000-02-29 12:34:56");
  CHECK(rnnad::format_timestamp(-1) == "1969-12-31 23:59:59");
  CHECK(rnnad::format_timestamp(1396310400) == "2014-04-01 00:00:00");
}

TEST_CASE("parse_timestamp is strict and names the place and the value", "[labels][timestamp]") {
  const std::vector<std::string> bad{"2014-02-29 00:00:00",          // 2014 is not a leap year
                                     "2014-04-31 00:00:00",          // April has 30 days
                                     "2014-13-01 00:00:00",          // month 13
                                     "2014-4-01 00:00:00",           // 1-digit month
                                     "2014-04-01T00:00:00",          // ISO 'T'
                                     "2014-04-01 24:00:00",          // hour 24
                                     "2014-04-01 00:60:00",          // minute 60
                                     "2014-04-01 00:00:60",          // second 60 (no leap seconds)
                                     "2014-04-01 00:00:00.5",        // sub-second
                                     "2014-04-01 00:00:00.",         // empty fraction
                                     "2014-04-01 00:00:00.0000000",  // 7 fraction digits
                                     " 2014-04-01 00:00:00",         // leading space
                                     "2014-04-01 00:00:00 ",         // trailing space
                                     "2014-04-01 00:00:0a",          // letter
                                     "+014-04-01 00:00:00",          // sign
                                     "0999-04-01 00:00:00",          // year < 1000
                                     "2014-04-01",                   // date only
                                     ""};
  for (const std::string& text : bad) {
    INFO("text: '" << text << "'");
    require_format_error([&] { rnnad::parse_timestamp(text, "f.csv:7"); }, {"f.csv:7", "'" + text + "'"});
  }
}

TEST_CASE("read_nab_timestamps reads the timestamp column strictly", "[labels][nab]") {
  const fs::path ok = write_file("ts.csv", "timestamp,value\r\n2014-04-01 00:00:00,1.5\r\n2014-04-01 00:05:00,x\n");
  CHECK(rnnad::read_nab_timestamps(ok) == std::vector<int64_t>{1396310400, 1396310700});
  require_format_error([&] { rnnad::read_nab_timestamps(write_file("h.csv", "time,value\n2014-04-01 00:00:00,1\n")); },
                       {"h.csv:1", "header"});
  require_format_error(
      [&] { rnnad::read_nab_timestamps(write_file("c.csv", "timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01\n")); },
      {"c.csv:3", "'2014-04-01'"});
  require_format_error(
      [&] {
        rnnad::read_nab_timestamps(
            write_file("d.csv", "timestamp,value\n2014-04-01 00:00:00,1\n2014-04-32 00:00:00,2\n"));
      },
      {"d.csv:3", "'2014-04-32 00:00:00'", "no such date"});
  require_format_error([&] { rnnad::read_nab_timestamps(write_file("e.csv", "timestamp,value\n")); },
                       {"e.csv", "no rows"});
  CHECK_THROWS_AS(rnnad::read_nab_timestamps(scratch() / "missing.csv"), rnnad::IoError);
}

TEST_CASE("NAB windows: reading and mapping to rows", "[labels][nab]") {
  const fs::path p = write_file("windows.json", R"({
    "a/one.csv": [["2014-04-01 00:10:00.000000", "2014-04-01 00:20:00.000000"],
                  ["2014-04-01 00:35:00.000000", "2014-04-01 00:35:00.000000"]],
    "b/none.csv": []
  })");
  const auto windows = rnnad::read_nab_windows(p);
  REQUIRE(windows.size() == 2);
  REQUIRE(windows.at("a/one.csv").size() == 2);
  CHECK(windows.at("b/none.csv").empty());
  // 5-minute rows from 2014-04-01 00:00:00 (1396310400 s): row i at 1396310400 + 300 i.
  std::vector<int64_t> ts;
  for (int i = 0; i < 10; ++i) ts.push_back(1396310400 + 300 * i);
  // 00:10 -> row 2, 00:20 -> row 4, 00:35 -> row 7.
  CHECK(rnnad::nab_windows_to_rows(windows.at("a/one.csv"), ts, "a/one.csv") == std::vector<RowRange>{{2, 4}, {7, 7}});

  SECTION("duplicated timestamps resolve to their first occurrence in scan order") {
    // rows: 00:00 00:05 00:10 00:15 00:10 00:15 00:20 ... (a step back, as in machine_temperature)
    std::vector<int64_t> dup{0, 300, 600, 900, 600, 900, 1200, 1500, 1800, 2100};
    for (auto& t : dup) t += 1396310400;
    // Window 0: start 00:10 -> row 2; end 00:20 -> first row >= 2 holding 00:20 = row 6.
    // Window 1: 00:35 -> row 9.
    CHECK(rnnad::nab_windows_to_rows(windows.at("a/one.csv"), dup, "a/one.csv") ==
          std::vector<RowRange>{{2, 6}, {9, 9}});
    // A window whose start (00:15, rows 3 and 5) occurs only before the previous window's end
    // (row 6) is never entered (NAB consumes windows in order): an error naming key and window.
    std::vector<rnnad::TimeWindow> late{windows.at("a/one.csv")[0],
                                        {1396310400 + 900, 1396310400 + 900, "00:15 text", "00:15 text"}};
    require_format_error([&] { rnnad::nab_windows_to_rows(late, dup, "a/one.csv"); },
                         {"a/one.csv", "window 1", "'00:15 text'", "not in the series after the previous window"});
  }
  SECTION("a missing end timestamp names the file and window") {
    std::vector<int64_t> short_ts(ts.begin(), ts.begin() + 4);  // up to 00:15
    require_format_error([&] { rnnad::nab_windows_to_rows(windows.at("a/one.csv"), short_ts, "a/one.csv"); },
                         {"a/one.csv", "window 0", "end timestamp", "2014-04-01 00:20:00.000000"});
  }
}

TEST_CASE("NAB windows: malformed files are rejected with the file, key and window", "[labels][nab]") {
  auto bad = [](const std::string& name, const std::string& json, std::initializer_list<std::string> parts) {
    const fs::path p = write_file(name, json);
    require_format_error([&] { rnnad::read_nab_windows(p); }, parts);
  };
  bad("w1.json", R"([1, 2])", {"w1.json", "object"});
  bad("w2.json", R"({"k.csv": [["2014-04-01 00:00:00.000000"]]})", {"w2.json", "'k.csv'", "window 0"});
  bad("w3.json", R"({"k.csv": [["2014-04-01 00:10:00.000000", "2014-04-01 00:00:00.000000"]]})",
      {"w3.json", "'k.csv'", "window 0", "after end"});
  bad("w4.json", R"({"k.csv": [["2014-04-01 00:00:00.000000", "2014-04-01 00:10:00.000000"],
                              ["2014-04-01 00:05:00.000000", "2014-04-01 00:20:00.000000"]]})",
      {"w4.json", "'k.csv'", "window 1", "previous window"});
  bad("w5.json", R"({"k.csv": [["2014-04-01 00:00:00.000000", "2014-04-01 25:00:00.000000"]]})",
      {"w5.json", "'k.csv'", "window 0 end", "'2014-04-01 25:00:00.000000'"});
  bad("w6.json", R"({"k.csv": [], "k.csv": []})", {"w6.json", "duplicate key"});
  bad("w7.json", R"({"k.csv": [["a", "b"],)", {"w7.json", "not valid JSON"});
  bad("w8.json", R"({"k.csv": [[1, 2]]})", {"w8.json", "'k.csv'", "window 0"});
}

TEST_CASE("NAB label points", "[labels][nab]") {
  const fs::path p = write_file("points.json", R"({"a.csv": ["2014-04-01 00:05:00"], "b.csv": []})");
  const auto pts = rnnad::read_nab_points(p);
  CHECK(pts.at("a.csv") == std::vector<int64_t>{1396310700});
  CHECK(pts.at("b.csv").empty());
  require_format_error([&] { rnnad::read_nab_points(write_file("p2.json", R"({"a.csv": [5]})")); },
                       {"p2.json", "'a.csv'", "entry 0"});
}

TEST_CASE("0/1 label files: strict, errors name file and line", "[labels][smd]") {
  CHECK(rnnad::read_binary_labels(write_file("l1.txt", "0\n1\n1\n0")) == std::vector<uint8_t>{0, 1, 1, 0});
  CHECK(rnnad::read_binary_labels(write_file("l2.txt", "1\r\n0\r\n")) == std::vector<uint8_t>{1, 0});
  require_format_error([&] { rnnad::read_binary_labels(write_file("l3.txt", "0\n2\n")); },
                       {"l3.txt:2", "expected 0 or 1", "'2'"});
  require_format_error([&] { rnnad::read_binary_labels(write_file("l4.txt", "0\n\n1\n")); }, {"l4.txt:2", "''"});
  require_format_error([&] { rnnad::read_binary_labels(write_file("l5.txt", "0 \n")); }, {"l5.txt:1", "'0 '"});
  require_format_error([&] { rnnad::read_binary_labels(write_file("l6.txt", "0\n1.0\n")); }, {"l6.txt:2", "'1.0'"});
  require_format_error([&] { rnnad::read_binary_labels(write_file("l7.txt", "")); }, {"l7.txt", "no rows"});
  CHECK_THROWS_AS(rnnad::read_binary_labels(scratch() / "missing.txt"), rnnad::IoError);
}

TEST_CASE("interpretation labels: the end convention is explicit", "[labels][smd]") {
  const fs::path p = write_file("i1.txt", "3-6:1,3\n10-11:2\n");
  const auto ex = rnnad::read_interpretation_labels(p, rnnad::SegmentEnd::Exclusive);
  REQUIRE(ex.size() == 2);
  CHECK(ex[0].rows == RowRange{3, 5});                  // [3, 6) -> rows 3..5
  CHECK(ex[0].features == std::vector<int64_t>{0, 2});  // metrics 1, 3 -> 0-based 0, 2
  CHECK(ex[1].rows == RowRange{10, 10});
  CHECK(ex[1].features == std::vector<int64_t>{1});
  const auto in = rnnad::read_interpretation_labels(p, rnnad::SegmentEnd::Inclusive);
  CHECK(in[0].rows == RowRange{3, 6});
  CHECK(in[1].rows == RowRange{10, 11});
  // No final newline, metric order kept as written.
  const auto nofinal = rnnad::read_interpretation_labels(write_file("i2.txt", "0-0:5,2"), rnnad::SegmentEnd::Inclusive);
  CHECK(nofinal[0].rows == RowRange{0, 0});
  CHECK(nofinal[0].features == std::vector<int64_t>{4, 1});

  auto bad = [](const std::string& name, const std::string& text, rnnad::SegmentEnd end,
                std::initializer_list<std::string> parts) {
    const fs::path f = write_file(name, text);
    require_format_error([&] { rnnad::read_interpretation_labels(f, end); }, parts);
  };
  using rnnad::SegmentEnd;
  bad("b1.txt", "1-2:1\n6-6:1\n", SegmentEnd::Exclusive, {"b1.txt:2", "empty segment"});
  bad("b2.txt", "5-3:1\n", SegmentEnd::Inclusive, {"b2.txt:1", "end before start"});
  bad("b3.txt", "3-6:\n", SegmentEnd::Inclusive, {"b3.txt:1", "metric ''"});
  bad("b4.txt", "3-6:0\n", SegmentEnd::Inclusive, {"b4.txt:1", "metric 0"});
  bad("b5.txt", "3-6:1,4,1\n", SegmentEnd::Inclusive, {"b5.txt:1", "metric 1 listed twice"});
  bad("b6.txt", "3-6;1\n", SegmentEnd::Inclusive, {"b6.txt:1", "'3-6;1'"});
  bad("b7.txt", "a-6:1\n", SegmentEnd::Inclusive, {"b7.txt:1", "start 'a'"});
  bad("b8.txt", "3-6:1, 2\n", SegmentEnd::Inclusive, {"b8.txt:1", "metric ' 2'"});
  bad("b9.txt", "3-6:1\n\n4-5:1\n", SegmentEnd::Inclusive, {"b9.txt:2"});
  bad("b10.txt", "3-99999999999999999999:1\n", SegmentEnd::Inclusive, {"b10.txt:1", "end '99999999999999999999'"});
}

TEST_CASE("HitRate@P%: hand-computed", "[labels][hitrate]") {
  // 4 rows x 5 features, row-major.
  const std::vector<double> c{
      9, 9, 9, 9, 9,  // row 0 (outside every segment)
      5, 0, 1, 4, 0,  // row 1
      1, 0, 0, 2, 9,  // row 2
      0, 3, 2, 1, 0,  // row 3
  };
  std::vector<rnnad::InterpretationSegment> segs{
      {{1, 2}, {0, 3}},     // labelled features {0, 3}, |L| = 2
      {{3, 3}, {1, 2, 4}},  // labelled features {1, 2, 4}, |L| = 3
  };
  // Segment 0: sums over rows 1-2 = [6, 0, 1, 6, 9]; ranking f4(9), f0(6), f3(6; tie -> lower
  //   index first), f2(1), f1(0).
  //   @100%: n = floor(1.0*2) = 2 -> {f4, f0}: 1 hit / 2 = 0.5
  //   @150%: n = floor(1.5*2) = 3 -> {f4, f0, f3}: 2 hits / 2 = 1.0
  // Segment 1: row 3 = [0, 3, 2, 1, 0]; ranking f1(3), f2(2), f3(1), f0(0), f4(0).
  //   @100%: n = 3 -> {f1, f2, f3}: 2 hits / 3
  //   @150%: n = floor(4.5) = 4 -> {f1, f2, f3, f0}: 2 hits / 3
  // Means: @100% (0.5 + 2/3)/2 = 7/12; @150% (1 + 2/3)/2 = 5/6.
  const auto h100 = rnnad::interpretation_hit_rate(c, 5, segs, 100.0);
  CHECK(h100.hit_rate == Approx(7.0 / 12.0).margin(1e-12));
  CHECK(h100.per_segment[0] == Approx(0.5));
  CHECK(h100.per_segment[1] == Approx(2.0 / 3.0));
  CHECK(h100.segments_evaluated == 2);
  const auto h150 = rnnad::interpretation_hit_rate(c, 5, segs, 150.0);
  CHECK(h150.hit_rate == Approx(5.0 / 6.0).margin(1e-12));

  // Only detected rows: detected = [1, 0, 1, 0]. Segment 0 uses row 2 only: [1, 0, 0, 2, 9]
  // -> ranking f4, f3, f0, f1, f2 -> @100% top 2 {f4, f3}: 1 hit / 2 = 0.5. Segment 1 has no
  // detected row -> skipped. Mean over evaluated = 0.5.
  const std::vector<uint8_t> det{1, 0, 1, 0};
  const auto hd = rnnad::interpretation_hit_rate(c, 5, segs, 100.0, det);
  CHECK(hd.hit_rate == Approx(0.5));
  CHECK(hd.segments_evaluated == 1);
  CHECK(hd.segments_skipped == 1);
  CHECK(hd.evaluated == std::vector<uint8_t>{1, 0});

  // @P% never exceeds the number of features: |L| = 3 of 4 features at 150% -> n = min(4, 4).
  std::vector<rnnad::InterpretationSegment> wide{{{0, 0}, {0, 1, 2}}};
  const std::vector<double> c4{1, 2, 3, 4};  // ranking f3, f2, f1, f0 -> @150% all 4: 3 hits / 3
  CHECK(rnnad::interpretation_hit_rate(c4, 4, wide, 150.0).hit_rate == Approx(1.0));
  CHECK(rnnad::interpretation_hit_rate(c4, 4, wide, 100.0).hit_rate == Approx(2.0 / 3.0));  // {f3,f2,f1}

  CHECK_THROWS_AS(rnnad::interpretation_hit_rate(c, 3, segs, 100.0), rnnad::ShapeError);  // 20 values, 3 columns
  CHECK_THROWS_AS(rnnad::interpretation_hit_rate(c, 5, segs, 100.0, std::vector<uint8_t>{1, 0}), rnnad::ShapeError);
  std::vector<rnnad::InterpretationSegment> outside{{{3, 4}, {0}}};
  CHECK_THROWS_AS(rnnad::interpretation_hit_rate(c, 5, outside, 100.0), rnnad::Error);
  std::vector<rnnad::InterpretationSegment> badf{{{1, 1}, {5}}};
  CHECK_THROWS_AS(rnnad::interpretation_hit_rate(c, 5, badf, 100.0), rnnad::Error);
  CHECK_THROWS_AS(rnnad::interpretation_hit_rate(c, 5, segs, 0.0), rnnad::Error);
}

// ---- Real data -----------------------------------------------------------------------------------

TEST_CASE("NAB: windows of the six files map to rows and contain every labelled point", "[labels][nab][data]") {
  const fs::path dir = data_dir() / "nab";
  const auto windows = rnnad::read_nab_windows(dir / "labels" / "combined_windows.json");
  const auto points = rnnad::read_nab_points(dir / "labels" / "combined_labels.json");
  // Rows, windows and points per file: ../shared/data/README.md.
  struct Fact {
    const char* key;
    size_t rows, windows, points;
  };
  const std::vector<Fact> facts{
      {"realKnownCause/machine_temperature_system_failure.csv", 22695, 4, 4},
      {"realKnownCause/nyc_taxi.csv", 10320, 5, 5},
      {"realKnownCause/ambient_temperature_system_failure.csv", 7267, 2, 2},
      {"realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv", 4032, 1, 2},
      {"artificialWithAnomaly/art_daily_jumpsup.csv", 4032, 1, 1},
      {"artificialNoAnomaly/art_daily_small_noise.csv", 4032, 0, 0},
  };
  CHECK(windows.size() == facts.size());
  CHECK(points.size() == facts.size());
  std::map<std::string, std::vector<RowRange>> rows_of;
  for (const Fact& f : facts) {
    INFO(f.key);
    const std::vector<int64_t> ts = rnnad::read_nab_timestamps(dir / f.key);
    CHECK(ts.size() == f.rows);
    REQUIRE(windows.count(f.key) == 1);
    REQUIRE(points.count(f.key) == 1);
    CHECK(windows.at(f.key).size() == f.windows);
    CHECK(points.at(f.key).size() == f.points);
    const std::vector<RowRange> rows = rnnad::nab_windows_to_rows(windows.at(f.key), ts, f.key);
    REQUIRE(rows.size() == f.windows);
    int64_t covered = 0;
    for (const RowRange& r : rows) {
      CHECK(r.first <= r.last);
      CHECK(r.last < static_cast<int64_t>(ts.size()));
      covered += r.length();
    }
    // Every labelled point is a row of the file and lies inside a window.
    for (int64_t p : points.at(f.key)) {
      INFO("point " << rnnad::format_timestamp(p));
      const auto it = std::find(ts.begin(), ts.end(), p);
      REQUIRE(it != ts.end());
      const auto row = static_cast<int64_t>(it - ts.begin());
      CHECK(std::any_of(rows.begin(), rows.end(), [&](const RowRange& r) { return r.contains(row); }));
    }
    // "together covering about 10% of the file's rows" (nearby windows merged can cover less).
    if (!rows.empty()) {
      const double share = static_cast<double>(covered) / static_cast<double>(ts.size());
      INFO("window share " << share);
      CHECK(share > 0.05);
      CHECK(share < 0.11);
    }
    rows_of[f.key] = rows;
  }
  // Hand-computed rows of two perfectly regular files.
  // nyc_taxi: 30-minute rows from 2014-07-01 00:00. 2014-10-30 15:30 = day 31+31+30+29 = 121,
  //   + 31 half-hours -> row 121*48 + 31 = 5839; 2014-11-03 22:30 = day 125 -> 6000 + 45 = 6045.
  CHECK(rows_of["realKnownCause/nyc_taxi.csv"][0] == RowRange{5839, 6045});
  // art_daily_jumpsup: 5-minute rows from 2014-04-01 00:00. 2014-04-10 16:15 = day 9 ->
  //   9*288 + 16*12 + 3 = 2787; 2014-04-12 01:45 = day 11 -> 3168 + 12 + 9 = 3189 (403 rows =
  //   trunc(0.10 * 4032)); its label 2014-04-11 09:00 = 2880 + 108 = 2988, the window's centre.
  CHECK(rows_of["artificialWithAnomaly/art_daily_jumpsup.csv"][0] == RowRange{2787, 3189});

  // machine_temperature: "the hour 2014-01-07 02:00-02:55 appears twice (12 duplicate
  // timestamps, one step back in time)".
  const std::vector<int64_t> mt =
      rnnad::read_nab_timestamps(dir / "realKnownCause/machine_temperature_system_failure.csv");
  int64_t steps_back = 0;
  for (size_t i = 1; i < mt.size(); ++i) steps_back += mt[i] < mt[i - 1];
  std::set<int64_t> distinct(mt.begin(), mt.end());
  CHECK(steps_back == 1);
  CHECK(mt.size() - distinct.size() == 12);
}

TEST_CASE("SMD machine-1-7: 2398 anomalous rows in 13 segments; interpretation = label runs", "[labels][smd][data]") {
  const fs::path dir = data_dir() / "smd";
  const std::vector<uint8_t> labels = rnnad::read_binary_labels(dir / "test_label" / "machine-1-7.txt");
  CHECK(labels.size() == 23697);
  CHECK(std::count(labels.begin(), labels.end(), 1) == 2398);
  const auto runs = rnnad::label_runs(labels);
  REQUIRE(runs.size() == 13);
  int64_t shortest = runs[0].length(), longest = runs[0].length();
  for (const RowRange& r : runs) {
    shortest = std::min(shortest, r.length());
    longest = std::max(longest, r.length());
  }
  CHECK(shortest == 3);  // "3 to 1215 rows long"
  CHECK(longest == 1215);

  const auto interp =
      rnnad::read_interpretation_labels(dir / "interpretation_label" / "machine-1-7.txt", rnnad::SegmentEnd::Exclusive);
  REQUIRE(interp.size() == runs.size());
  for (size_t s = 0; s < runs.size(); ++s) {
    INFO("segment " << s);
    CHECK(interp[s].rows == runs[s]);
    CHECK(!interp[s].features.empty());
    for (int64_t f : interp[s].features) CHECK((f >= 0 && f < 38));
  }
  // The first line is "837-858:1,6,9,12,13,14,15,16" (exclusive end -> rows 837..857).
  CHECK(interp[0].rows == RowRange{837, 857});
  CHECK(interp[0].features == std::vector<int64_t>{0, 5, 8, 11, 12, 13, 14, 15});
  // Read with the wrong (ASD) convention, every segment is one row too long.
  const auto wrong =
      rnnad::read_interpretation_labels(dir / "interpretation_label" / "machine-1-7.txt", rnnad::SegmentEnd::Inclusive);
  for (size_t s = 0; s < runs.size(); ++s) CHECK(wrong[s].rows.last == runs[s].last + 1);
}

TEST_CASE("ASD omi-1: 441 anomalous rows in 7 segments; interpretation = label runs", "[labels][asd][data]") {
  const fs::path dir = data_dir() / "asd";
  const std::vector<uint8_t> labels = rnnad::read_binary_labels(dir / "test_label" / "omi-1.txt");
  CHECK(labels.size() == 4320);
  CHECK(std::count(labels.begin(), labels.end(), 1) == 441);
  const auto runs = rnnad::label_runs(labels);
  REQUIRE(runs.size() == 7);
  const auto interp =
      rnnad::read_interpretation_labels(dir / "interpretation_label" / "omi-1.txt", rnnad::SegmentEnd::Inclusive);
  REQUIRE(interp.size() == runs.size());
  for (size_t s = 0; s < runs.size(); ++s) {
    INFO("segment " << s);
    CHECK(interp[s].rows == runs[s]);
    for (int64_t f : interp[s].features) CHECK((f >= 0 && f < 19));
  }
  // First line "760-765:4,5,...": inclusive end -> rows 760..765 (6 rows).
  CHECK(interp[0].rows == RowRange{760, 765});
}
