// NAB scoring (rnnad/nab_score.h). Expected values computed by hand; the arithmetic is in the
// comments. S(y) = 2/(1 + e^{5y}) − 1 (NAB's scaled sigmoid); maxTP = S(−1).
//   e^{-5}   = 0.006737947  -> S(−1)   = 2/1.006737947 − 1 = 0.986614298
//   e^{-4}   = 0.018315639  -> S(−0.8) = 2/1.018315639 − 1 = 0.964027580
//   e^{-2}   = 0.135335283  -> S(−0.4) = 2/1.135335283 − 1 = 0.761594156 (= tanh 1)
//   e^{3.75} = 42.52108200  -> S(0.75) = 2/43.52108200 − 1 = −0.954045260
//   e^{1.25} = 3.490342957  -> S(0.25) = 2/4.490342957 − 1 = −0.554599722
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "rnnad/error.h"
#include "rnnad/nab_score.h"

using rnnad::RowRange;

namespace {

constexpr double kMaxTp = 0.986614298;
constexpr double kTol = 1e-8;

rnnad::NabFileInput file(const char* name, const std::vector<uint8_t>& det, const std::vector<RowRange>& win) {
  return {name, det, win};
}

std::vector<uint8_t> detections(size_t rows, std::initializer_list<size_t> at) {
  std::vector<uint8_t> d(rows, 0);
  for (size_t i : at) d[i] = 1;
  return d;
}

}  // namespace

TEST_CASE("NAB profiles, scaled sigmoid and probation", "[nab]") {
  const auto& p = rnnad::nab_profiles();
  CHECK(std::string(p[0].name) == "standard");
  CHECK((p[0].tp_weight == 1.0 && p[0].fp_weight == 0.11 && p[0].fn_weight == 1.0));
  CHECK(std::string(p[1].name) == "reward_low_FP_rate");
  CHECK((p[1].tp_weight == 1.0 && p[1].fp_weight == 0.22 && p[1].fn_weight == 1.0));
  CHECK(std::string(p[2].name) == "reward_low_FN_rate");
  CHECK((p[2].tp_weight == 1.0 && p[2].fp_weight == 0.11 && p[2].fn_weight == 2.0));

  CHECK(rnnad::nab_scaled_sigmoid(-1.0) == Approx(kMaxTp).margin(kTol));
  CHECK(rnnad::nab_scaled_sigmoid(0.0) == 0.0);
  CHECK(rnnad::nab_scaled_sigmoid(1.0) == Approx(-kMaxTp).margin(kTol));
  CHECK(rnnad::nab_scaled_sigmoid(-0.8) == Approx(0.964027580).margin(kTol));
  CHECK(rnnad::nab_scaled_sigmoid(0.75) == Approx(-0.954045260).margin(kTol));
  CHECK(rnnad::nab_scaled_sigmoid(3.0) == -1.0);  // y >= 3: −1 exactly
  CHECK(rnnad::nab_scaled_sigmoid(1e6) == -1.0);
  CHECK(rnnad::nab_scaled_sigmoid(-1e6) == 1.0);

  // min(floor(0.15 n), 0.15 * 5000 = 750)
  CHECK(rnnad::nab_probation_length(20) == 3.0);       // floor(3.0)
  CHECK(rnnad::nab_probation_length(4032) == 604.0);   // floor(604.8)
  CHECK(rnnad::nab_probation_length(10000) == 750.0);  // min(1500, 750)
  CHECK(rnnad::nab_probation_length(0) == 0.0);
  CHECK_THROWS_AS(rnnad::nab_probation_length(10, 1.0), rnnad::Error);
}

TEST_CASE("NAB sweep scores: hand case", "[nab]") {
  // 20 rows, window [5, 9] (w = 5), standard profile.
  const std::vector<RowRange> win{{5, 9}};
  const auto s = rnnad::nab_sweep_scores(20, win, rnnad::nab_profiles()[0]);
  REQUIRE(s.size() == 20);
  // Before the first window: −A_FP = −0.11.
  CHECK(s[0] == Approx(-0.11).margin(kTol));
  CHECK(s[4] == Approx(-0.11).margin(kTol));
  // Left edge: pos = −(9−5+1)/5 = −1 -> S(−1)/maxTP = 1 = A_TP.
  CHECK(s[5] == Approx(1.0).margin(kTol));
  // Row 6: pos = −(9−6+1)/5 = −0.8 -> 0.964027580/0.986614298 = 0.977106841.
  CHECK(s[6] == Approx(0.977106841).margin(kTol));
  // Row 8: pos = −(9−8+1)/5 = −0.4 -> 0.761594156/0.986614298 = 0.771926940.
  CHECK(s[8] == Approx(0.771926940).margin(kTol));
  // Row 10, just after: pos = |9−10|/(5−1) = 0.25 -> 0.11 * (−0.554599722) = −0.061005969.
  CHECK(s[10] == Approx(-0.061005969).margin(kTol));
  // Row 12: pos = 3/4 = 0.75 -> 0.11 * (−0.954045260) = −0.104944979.
  CHECK(s[12] == Approx(-0.104944979).margin(kTol));
  // Row 19: pos = 10/4 = 2.5 < 3 -> 0.11 * (2/(1+e^{12.5}) − 1); e^{12.5} = 268337.29 ->
  // 0.11 * (−0.999992547) = −0.109999180.
  CHECK(s[19] == Approx(-0.109999180).margin(kTol));

  // A window of width 1 followed by rows: NAB divides by zero; rnnad gives the full −A_FP.
  const std::vector<RowRange> one{{5, 5}};
  const auto s1 = rnnad::nab_sweep_scores(8, one, rnnad::nab_profiles()[0]);
  CHECK(s1[5] == Approx(1.0).margin(kTol));  // pos = −1/1 = −1
  CHECK(s1[6] == Approx(-0.11).margin(kTol));

  CHECK_THROWS_AS(rnnad::nab_sweep_scores(8, std::vector<RowRange>{{5, 8}}, rnnad::nab_profiles()[0]), rnnad::Error);
  CHECK_THROWS_AS(rnnad::nab_sweep_scores(20, std::vector<RowRange>{{5, 9}, {9, 12}}, rnnad::nab_profiles()[0]),
                  rnnad::Error);
  CHECK_THROWS_AS(rnnad::nab_sweep_scores(20, std::vector<RowRange>{{9, 5}}, rnnad::nab_profiles()[0]), rnnad::Error);
}

TEST_CASE("NAB score: the worked example of algorithms.md §7.3, all profiles", "[nab]") {
  // 20 rows, window [5, 9], detections at rows 1 (probationary: rows < 3 ignored), 6 and 12.
  const std::vector<RowRange> win{{5, 9}};
  const auto det = detections(20, {1, 6, 12});
  const std::vector<rnnad::NabFileInput> files{file("f", det, win)};
  const auto all = rnnad::nab_score_all_profiles(files);
  // TP term: S(−0.8)/maxTP = 0.977106841 (earliest detection in the window, row 6).
  // standard:      FP row 12: 0.11 * S(0.75) = −0.104944979 -> raw 0.872161862
  //                normalised 100 * (0.872161862 + 1) / (1 + 1) = 93.6080931
  // low FP rate:   0.22 * S(0.75) = −0.209889957 -> raw 0.767216884
  //                normalised 100 * (0.767216884 + 1) / 2 = 88.3608442
  // low FN rate:   raw 0.872161862 (A_FN plays no part: the window was detected)
  //                normalised 100 * (0.872161862 + 2) / (1 + 2) = 95.7387287
  CHECK(all[0].raw == Approx(0.872161862).margin(kTol));
  CHECK(*all[0].normalized == Approx(93.6080931).margin(1e-6));
  CHECK(all[1].raw == Approx(0.767216884).margin(kTol));
  CHECK(*all[1].normalized == Approx(88.3608442).margin(1e-6));
  CHECK(all[2].raw == Approx(0.872161862).margin(kTol));
  CHECK(*all[2].normalized == Approx(95.7387287).margin(1e-6));
  CHECK(all[0].raw_perfect == 1.0);
  CHECK(all[0].raw_null == -1.0);
  CHECK(all[2].raw_null == -2.0);
  // Row counts after probation (rows 3..19): in window 5 rows, 1 detected; outside 12 rows, 1 detected.
  const rnnad::NabFileScore& f = all[0].files[0];
  CHECK(f.tp == 1);
  CHECK(f.fn == 4);
  CHECK(f.fp == 1);
  CHECK(f.tn == 11);
  CHECK(f.windows_counted == 1);
  CHECK(f.windows_detected == 1);
}

TEST_CASE("NAB score: a single detection inside a window", "[nab]") {
  // 20 rows, window [10, 14] (w = 5), one detection at row 13:
  // pos = −(14 − 13 + 1)/5 = −0.4 -> S(−0.4) = 2/(1 + e^{−2}) − 1 = 0.761594156;
  // / maxTP 0.986614298 = 0.771926940 = raw (no FP). Normalised (standard):
  // 100 * (0.771926940 + 1) / 2 = 88.5963470.
  const std::vector<RowRange> win{{10, 14}};
  const auto det = detections(20, {13});
  const std::vector<rnnad::NabFileInput> files{file("g", det, win)};
  const auto sc = rnnad::nab_score(files, rnnad::nab_profiles()[0]);
  CHECK(sc.raw == Approx(0.771926940).margin(kTol));
  CHECK(*sc.normalized == Approx(88.5963470).margin(1e-6));
  // Later detections in the same window change nothing; an earlier one raises the reward.
  const auto later = detections(20, {13, 14});
  CHECK(rnnad::nab_score_file(file("g", later, win), rnnad::nab_profiles()[0]).raw == Approx(0.771926940).margin(kTol));
  const auto earlier = detections(20, {10, 13});
  CHECK(rnnad::nab_score_file(file("g", earlier, win), rnnad::nab_profiles()[0]).raw == Approx(1.0).margin(kTol));
  // A detection before every window costs the full −A_FP: 0.771926940 − 0.11 = 0.661926940.
  const auto fp_before = detections(20, {4, 13});
  CHECK(rnnad::nab_score_file(file("g", fp_before, win), rnnad::nab_profiles()[0]).raw ==
        Approx(0.661926940).margin(kTol));
}

TEST_CASE("NAB score: perfect detector 100 and null detector 0 for every profile", "[nab]") {
  // Two files. "a": 20 rows (probation 3), window [5, 9]. "b": 30 rows (probation
  // floor(4.5) = 4), windows [6, 8] and [15, 20]. W = 3 counted windows.
  const std::vector<RowRange> wa{{5, 9}};
  const std::vector<RowRange> wb{{6, 8}, {15, 20}};
  // Perfect: one detection at each window's first row: raw = 3 * A_TP = 3 = raw_perfect.
  const auto pa = detections(20, {5});
  const auto pb = detections(30, {6, 15});
  // Perfect with extra detections later inside the windows: still perfect (only the earliest counts).
  const auto qa = detections(20, {5, 6, 7, 8, 9});
  const auto qb = detections(30, {6, 7, 8, 15, 16, 20});
  // Null: nothing detected: raw = −A_FN * 3 = raw_null.
  const std::vector<uint8_t> na(20, 0), nb(30, 0);
  const std::vector<rnnad::NabFileInput> perfect{file("a", pa, wa), file("b", pb, wb)};
  const std::vector<rnnad::NabFileInput> perfect2{file("a", qa, wa), file("b", qb, wb)};
  const std::vector<rnnad::NabFileInput> null{file("a", na, wa), file("b", nb, wb)};
  for (const rnnad::NabProfile& p : rnnad::nab_profiles()) {
    INFO(p.name);
    const auto sp = rnnad::nab_score(perfect, p);
    CHECK(sp.raw == Approx(3.0).margin(kTol));
    CHECK(sp.raw_perfect == 3.0);
    CHECK(sp.raw_null == -3.0 * p.fn_weight);
    REQUIRE(sp.normalized.has_value());
    CHECK(*sp.normalized == Approx(100.0).margin(1e-9));
    CHECK(*rnnad::nab_score(perfect2, p).normalized == Approx(100.0).margin(1e-9));
    const auto sn = rnnad::nab_score(null, p);
    CHECK(sn.raw == Approx(-3.0 * p.fn_weight).margin(kTol));
    CHECK(*sn.normalized == Approx(0.0).margin(1e-9));
    CHECK(sn.files[1].windows_counted == 2);
    CHECK(sn.files[1].windows_detected == 0);
  }
}

TEST_CASE("NAB score: probation", "[nab]") {
  // 20 rows, probation rows 0..2. A window [0, 2] lies wholly in probation: not counted, and
  // its detections are ignored; with no counted window there is nothing to normalise by.
  const std::vector<RowRange> early{{0, 2}};
  const auto det = detections(20, {1});
  const std::vector<rnnad::NabFileInput> files{file("p", det, early)};
  const auto sc = rnnad::nab_score(files, rnnad::nab_profiles()[0]);
  CHECK(sc.raw == 0.0);
  CHECK(sc.files[0].windows_counted == 0);
  CHECK_FALSE(sc.normalized.has_value());
  // A window [1, 5] partly in probation is counted; its probationary rows are not scored but the
  // sweep keeps the full width: detection at row 1 ignored; at row 4: pos = −(5−4+1)/5 = −0.4 ->
  // 0.771926940.
  const std::vector<RowRange> part{{1, 5}};
  CHECK(rnnad::nab_score_file(file("p", detections(20, {1}), part), rnnad::nab_profiles()[0]).raw ==
        Approx(-1.0).margin(kTol));
  CHECK(rnnad::nab_score_file(file("p", detections(20, {1, 4}), part), rnnad::nab_profiles()[0]).raw ==
        Approx(0.771926940).margin(kTol));
  // A file without windows: only false positives count; rows 0..2 are probationary.
  // Detections at 2 (ignored) and 7 (before any window: −0.11).
  CHECK(rnnad::nab_score_file(file("n", detections(20, {2, 7}), {}), rnnad::nab_profiles()[0]).raw ==
        Approx(-0.11).margin(kTol));
  CHECK_THROWS_AS(
      rnnad::nab_score_file(file("x", detections(5, {}), std::vector<RowRange>{{3, 5}}), rnnad::nab_profiles()[0]),
      rnnad::Error);
}
