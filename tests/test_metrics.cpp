// Evaluation metrics (rnnad/metrics.h). Expected numbers are computed by hand on small cases
// (arithmetic in the comments); the SMD case uses the documented labels of machine-1-7 through
// RNNAD_DATA_DIR (set by CTest; by hand: export RNNAD_DATA_DIR=/work/shared/data).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "rnnad/error.h"
#include "rnnad/labels.h"
#include "rnnad/metrics.h"

namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

fs::path data_dir() {
  const char* env = std::getenv("RNNAD_DATA_DIR");
  if (env == nullptr || *env == '\0')
    FAIL(
        "RNNAD_DATA_DIR is not set: the SMD random-score check needs the shared datasets "
        "(CTest sets it; by hand: export RNNAD_DATA_DIR=/work/shared/data)");
  const fs::path dir(env);
  if (!fs::exists(dir / "smd" / "test_label" / "machine-1-7.txt"))
    FAIL("RNNAD_DATA_DIR=" << dir.string() << " does not hold smd/test_label/machine-1-7.txt");
  return dir;
}

void check_prf(const rnnad::Prf& r, int64_t tp, int64_t fp, int64_t fn, int64_t tn, double p, double rc, double f1) {
  CHECK(r.tp == tp);
  CHECK(r.fp == fp);
  CHECK(r.fn == fn);
  CHECK(r.tn == tn);
  CHECK(r.precision == Approx(p).margin(1e-12));
  CHECK(r.recall == Approx(rc).margin(1e-12));
  CHECK(r.f1 == Approx(f1).margin(1e-12));
}

}  // namespace

TEST_CASE("point-wise precision/recall/F1: hand case", "[metrics]") {
  //          row: 0  1  2  3  4  5  6  7  8  9
  const std::vector<uint8_t> pred{1, 1, 0, 0, 1, 0, 1, 0, 0, 0};
  const std::vector<uint8_t> lab{1, 0, 1, 0, 1, 1, 0, 0, 0, 0};
  // TP rows 0,4 = 2; FP rows 1,6 = 2; FN rows 2,5 = 2; TN rows 3,7,8,9 = 4.
  // P = 2/4, R = 2/4, F1 = 2*0.25/1 = 0.5.
  check_prf(rnnad::point_prf(pred, lab), 2, 2, 2, 4, 0.5, 0.5, 0.5);
}

TEST_CASE("point-wise metrics: edge cases are 0, never NaN", "[metrics]") {
  const std::vector<uint8_t> zeros(5, 0), ones(5, 1);
  // No anomalous label, no prediction: P = 0/0 -> 0, R = 0/0 -> 0, F1 -> 0.
  check_prf(rnnad::point_prf(zeros, zeros), 0, 0, 0, 5, 0, 0, 0);
  // Predictions but no anomalous label: P = 0/5 = 0, R = 0/0 -> 0.
  check_prf(rnnad::point_prf(ones, zeros), 0, 5, 0, 0, 0, 0, 0);
  // Anomalous labels but no prediction: P = 0/0 -> 0, R = 0/5 = 0.
  check_prf(rnnad::point_prf(zeros, ones), 0, 0, 5, 0, 0, 0, 0);
  // Perfect.
  check_prf(rnnad::point_prf(ones, ones), 5, 0, 0, 0, 1, 1, 1);
  // Empty series.
  check_prf(rnnad::point_prf({}, {}), 0, 0, 0, 0, 0, 0, 0);
  // Any nonzero byte counts as 1.
  check_prf(rnnad::point_prf(std::vector<uint8_t>{7, 0}, std::vector<uint8_t>{2, 0}), 1, 0, 0, 1, 1, 1, 1);
  CHECK_THROWS_AS(rnnad::point_prf(zeros, std::vector<uint8_t>(4, 0)), rnnad::ShapeError);
}

TEST_CASE("point-adjusted F1 and PA%K: hand case", "[metrics][pa]") {
  //          row: 0  1  2  3  4  5  6  7  8  9 10 11
  const std::vector<uint8_t> lab{0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0};   // segments [2,5] (4), [8,9] (2)
  const std::vector<uint8_t> pred{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1};  // one hit in [2,5]
  // Point-wise: TP 1 (row 4), FP 2 (rows 0, 11), FN 5 (2,3,5,8,9), TN 4.
  //   P = 1/3, R = 1/6, F1 = 2*(1/18)/(1/2) = 2/9.
  check_prf(rnnad::point_prf(pred, lab), 1, 2, 5, 4, 1.0 / 3, 1.0 / 6, 2.0 / 9);
  // PA: segment [2,5] has a hit -> all 4 rows TP; [8,9] none. TP 4, FP 2, FN 2, TN 4.
  //   P = 4/6, R = 4/6, F1 = 2/3.
  CHECK(rnnad::point_adjust(pred, lab) == std::vector<uint8_t>{1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1});
  check_prf(rnnad::adjusted_prf(pred, lab), 4, 2, 2, 4, 2.0 / 3, 2.0 / 3, 2.0 / 3);
  // PA%K: fill iff hits > K/100 * 4. 1 hit: K = 20 -> 1 > 0.8 fills; K = 25 -> 1 > 1.0 does not
  // (strict); K = 100 never fills.
  check_prf(rnnad::adjusted_prf(pred, lab, 20.0), 4, 2, 2, 4, 2.0 / 3, 2.0 / 3, 2.0 / 3);
  check_prf(rnnad::adjusted_prf(pred, lab, 25.0), 1, 2, 5, 4, 1.0 / 3, 1.0 / 6, 2.0 / 9);
  check_prf(rnnad::adjusted_prf(pred, lab, 100.0), 1, 2, 5, 4, 1.0 / 3, 1.0 / 6, 2.0 / 9);
  check_prf(rnnad::evaluate_predictions(pred, lab, rnnad::Adjust::pa_k(20.0)), 4, 2, 2, 4, 2.0 / 3, 2.0 / 3, 2.0 / 3);
  check_prf(rnnad::evaluate_predictions(pred, lab, rnnad::Adjust::none()), 1, 2, 5, 4, 1.0 / 3, 1.0 / 6, 2.0 / 9);

  // PA%K curve, step 10: K = 0, 10, 20 fill (1 > 0, 0.4, 0.8) -> F1 2/3; K = 30..100 do not
  // (1 > 1.2 false) -> F1 2/9. Area (trapezoids, K/100): [0,10] 2/3*0.1 + [10,20] 2/3*0.1
  //   + [20,30] (2/3+2/9)/2*0.1 + [30,100] 7*(2/9)*0.1 = 6/90 + 6/90 + 4/90 + 14/90 = 1/3.
  const rnnad::PakCurve curve = rnnad::pak_curve(pred, lab, 10.0);
  REQUIRE(curve.k_percent.size() == 11);
  CHECK(curve.k_percent.back() == 100.0);
  CHECK(curve.f1[2] == Approx(2.0 / 3));
  CHECK(curve.f1[3] == Approx(2.0 / 9));
  CHECK(curve.auc == Approx(1.0 / 3).margin(1e-12));
  CHECK_THROWS_AS(rnnad::pak_curve(pred, lab, 7.0), rnnad::Error);
  CHECK_THROWS_AS(rnnad::adjusted_prf(pred, lab, 101.0), rnnad::Error);
  CHECK_THROWS_AS(rnnad::adjusted_prf(pred, lab, kNaN), rnnad::Error);
  CHECK_THROWS_AS(rnnad::adjusted_prf(pred, std::vector<uint8_t>(3, 0)), rnnad::ShapeError);
}

TEST_CASE("point adjustment credits a segment starting at row 0 (OmniAnomaly does not)", "[metrics][pa]") {
  const std::vector<uint8_t> lab{1, 1, 1, 0, 0};
  const std::vector<uint8_t> pred{0, 0, 1, 0, 0};
  // Donut's rule: all three rows TP -> P = R = F1 = 1. OmniAnomaly's adjust_predicts stops its
  // backward walk before index 0 and would leave row 0 as FN (TP 2, F1 0.8).
  check_prf(rnnad::adjusted_prf(pred, lab), 3, 0, 0, 2, 1, 1, 1);
}

TEST_CASE("best F1 over thresholds (ORACLE): hand case", "[metrics][oracle]") {
  //            row:  0    1    2    3    4    5
  const std::vector<double> s{0.1, 0.9, 0.8, 0.3, 0.7, 0.2};
  const std::vector<uint8_t> lab{0, 1, 0, 1, 1, 0};  // segments [1,1], [3,4]
  // Point-wise, flag score >= t:
  //   t=0.9 {1}:           TP1 FP0 -> P 1,   R 1/3 -> F1 0.5
  //   t=0.8 {1,2}:         TP1 FP1 -> P 1/2, R 1/3 -> F1 0.4
  //   t=0.7 {1,2,4}:       TP2 FP1 -> P 2/3, R 2/3 -> F1 2/3
  //   t=0.3 {1,2,3,4}:     TP3 FP1 -> P 3/4, R 1   -> F1 6/7   <- best
  //   t=0.2 +5:            TP3 FP2 -> P 3/5, R 1   -> F1 0.75
  //   t=0.1 all:           TP3 FP3 -> P 1/2, R 1   -> F1 2/3
  const rnnad::BestF1 b = rnnad::best_f1_oracle(s, lab);
  CHECK(b.threshold == 0.3);
  check_prf(b.at_best, 3, 1, 0, 2, 0.75, 1.0, 6.0 / 7);
  // Point-adjusted: t=0.9 -> segment [1,1] hit: TP1 FP0 -> 0.5; t=0.8: TP1 FP1 -> 0.4;
  //   t=0.7 -> [3,4] hit by row 4 -> filled: TP3 FP1 -> 6/7; t=0.3: same 6/7 (tie keeps the
  //   higher threshold 0.7).
  const rnnad::BestF1 pa = rnnad::best_f1_oracle(s, lab, rnnad::Adjust::point_adjust());
  CHECK(pa.threshold == 0.7);
  check_prf(pa.at_best, 3, 1, 0, 2, 0.75, 1.0, 6.0 / 7);
  // The threshold reproduces the counts.
  check_prf(rnnad::adjusted_prf(rnnad::flags_at_threshold(s, pa.threshold), lab), 3, 1, 0, 2, 0.75, 1.0, 6.0 / 7);
  // PA%K with K = 50: [3,4] (2 rows) fills iff hits > 1, i.e. both rows: at t = 0.3.
  //   t=0.7: TP 1 (row 1) + 1 (row 4, not filled) = 2, FP1 -> 2/3; t=0.3: filled TP3 FP1 -> 6/7.
  const rnnad::BestF1 pak = rnnad::best_f1_oracle(s, lab, rnnad::Adjust::pa_k(50.0));
  CHECK(pak.threshold == 0.3);
  CHECK(pak.at_best.f1 == Approx(6.0 / 7));
}

TEST_CASE("best F1 (ORACLE): NaN rows are never flagged but keep their labels", "[metrics][oracle]") {
  const std::vector<double> s{0.1, kNaN, 0.8, 0.3, 0.7, 0.2};
  const std::vector<uint8_t> lab{0, 1, 0, 1, 1, 0};  // 3 anomalous rows, row 1 has no score
  // t=0.8: TP0 FP1 -> 0; t=0.7: TP1 FP1 -> P 1/2, R 1/3 -> 0.4; t=0.3: TP2 FP1 -> P 2/3,
  // R 2/3 -> 2/3 <- best; t=0.2: TP2 FP2 -> 4/7; t=0.1: TP2 FP3 -> P 0.4, R 2/3 -> 0.5.
  const rnnad::BestF1 b = rnnad::best_f1_oracle(s, lab);
  CHECK(b.threshold == 0.3);
  check_prf(b.at_best, 2, 1, 1, 2, 2.0 / 3, 2.0 / 3, 2.0 / 3);
  // PA: segment [1,1] has only a NaN row: never detected. t=0.7 fills [3,4]: TP2 FP1 -> 2/3.
  const rnnad::BestF1 pa = rnnad::best_f1_oracle(s, lab, rnnad::Adjust::point_adjust());
  CHECK(pa.threshold == 0.7);
  check_prf(pa.at_best, 2, 1, 1, 2, 2.0 / 3, 2.0 / 3, 2.0 / 3);
  // A NaN row inside a segment is credited by PA when the segment is filled:
  // labels [1,1,1], scores [NaN, 0.5, 0.1] -> t=0.5 fills all 3 rows: F1 1.
  const rnnad::BestF1 fill = rnnad::best_f1_oracle(std::vector<double>{kNaN, 0.5, 0.1}, std::vector<uint8_t>{1, 1, 1},
                                                   rnnad::Adjust::point_adjust());
  CHECK(fill.threshold == 0.5);
  check_prf(fill.at_best, 3, 0, 0, 0, 1, 1, 1);
}

TEST_CASE("best F1 (ORACLE): no anomalous label or no usable threshold", "[metrics][oracle]") {
  const std::vector<double> s{0.3, 0.2, 0.1};
  const rnnad::BestF1 none = rnnad::best_f1_oracle(s, std::vector<uint8_t>{0, 0, 0});
  CHECK(none.threshold == kInf);
  check_prf(none.at_best, 0, 0, 0, 3, 0, 0, 0);
  const rnnad::BestF1 nan_only = rnnad::best_f1_oracle(std::vector<double>{kNaN, kNaN}, std::vector<uint8_t>{1, 0});
  CHECK(nan_only.threshold == kInf);
  check_prf(nan_only.at_best, 0, 0, 1, 1, 0, 0, 0);
  // +inf scores are ordinary values: flagged at threshold +inf.
  const rnnad::BestF1 inf = rnnad::best_f1_oracle(std::vector<double>{kInf, 0.0}, std::vector<uint8_t>{1, 0});
  CHECK(inf.threshold == kInf);
  check_prf(inf.at_best, 1, 0, 0, 1, 1, 1, 1);
  CHECK_THROWS_AS(rnnad::best_f1_oracle(s, std::vector<uint8_t>{0, 0}), rnnad::ShapeError);
  CHECK_THROWS_AS(rnnad::best_f1_oracle(s, std::vector<uint8_t>{0, 0, 1}, rnnad::Adjust::pa_k(-1.0)), rnnad::Error);
}

TEST_CASE("best F1 (ORACLE) equals the maximum over every threshold, evaluated one by one", "[metrics][oracle]") {
  // Consistency of the O(n log n) sweep with the per-threshold definition (both are rnnad code:
  // this is a property check, the golden values are the hand cases above).
  std::mt19937_64 gen(12345);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + static_cast<int>(gen() % 40);
    std::vector<double> s(static_cast<size_t>(n));
    std::vector<uint8_t> lab(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      s[i] = static_cast<double>(gen() % 8) / 8.0;  // many ties
      if (gen() % 10 == 0) s[i] = kNaN;
      lab[i] = gen() % 3 == 0 ? 1 : 0;
    }
    for (const rnnad::Adjust adj : {rnnad::Adjust::none(), rnnad::Adjust::point_adjust(), rnnad::Adjust::pa_k(30.0),
                                    rnnad::Adjust::pa_k(100.0)}) {
      double best = 0.0;
      std::set<double> thresholds;
      for (double v : s)
        if (!std::isnan(v)) thresholds.insert(v);
      for (double t : thresholds)
        best = std::max(best, rnnad::evaluate_predictions(rnnad::flags_at_threshold(s, t), lab, adj).f1);
      const rnnad::BestF1 b = rnnad::best_f1_oracle(s, lab, adj);
      INFO("trial " << trial << " adjust " << adj.enabled << "/" << adj.k_percent);
      CHECK(b.at_best.f1 == Approx(best).margin(1e-12));
      const rnnad::Prf again = rnnad::evaluate_predictions(rnnad::flags_at_threshold(s, b.threshold), lab, adj);
      CHECK(again.tp == b.at_best.tp);
      CHECK(again.fp == b.at_best.fp);
    }
    // PA%K at K = 100 never fills: identical to point-wise.
    CHECK(rnnad::best_f1_oracle(s, lab, rnnad::Adjust::pa_k(100.0)).at_best.f1 ==
          Approx(rnnad::best_f1_oracle(s, lab).at_best.f1).margin(1e-12));
  }
}

TEST_CASE("average precision: hand cases (scikit-learn's step-wise definition)", "[metrics][ap]") {
  // scikit-learn's docstring example: y = [0, 0, 1, 1], s = [0.1, 0.4, 0.35, 0.8] -> 0.83.
  // Descending: 0.8 (pos): P 1, R 1/2 -> +1/2*1; 0.4 (neg): P 1/2, R 1/2 -> +0;
  // 0.35 (pos): P 2/3, R 1 -> +1/2*2/3 = 1/3; 0.1 (neg): R 1 -> +0. AP = 5/6.
  CHECK(rnnad::average_precision(std::vector<double>{0.1, 0.4, 0.35, 0.8}, std::vector<uint8_t>{0, 0, 1, 1}) ==
        Approx(5.0 / 6).margin(1e-12));
  // Ties form one threshold: s = [0.5, 0.5, 0.2], y = [1, 0, 1]: t=0.5: P 1/2, R 1/2 -> 1/4;
  // t=0.2: P 2/3, R 1 -> +1/2*2/3 = 1/3. AP = 7/12.
  CHECK(rnnad::average_precision(std::vector<double>{0.5, 0.5, 0.2}, std::vector<uint8_t>{1, 0, 1}) ==
        Approx(7.0 / 12).margin(1e-12));
  // An anomalous NaN row is never recalled: s = [0.9, NaN], y = [1, 1] -> P 1, R 1/2 -> 0.5.
  CHECK(rnnad::average_precision(std::vector<double>{0.9, kNaN}, std::vector<uint8_t>{1, 1}) == Approx(0.5));
  // No anomalous label: 0 by convention.
  CHECK(rnnad::average_precision(std::vector<double>{0.9, 0.1}, std::vector<uint8_t>{0, 0}) == 0.0);
  // Perfect ranking: 1.
  CHECK(rnnad::average_precision(std::vector<double>{0.9, 0.8, 0.1}, std::vector<uint8_t>{1, 1, 0}) == Approx(1.0));
  CHECK_THROWS_AS(rnnad::average_precision(std::vector<double>{0.9}, std::vector<uint8_t>{1, 0}), rnnad::ShapeError);
}

TEST_CASE("random-score baseline: seeded, deterministic, NaN rows kept", "[metrics][random]") {
  const std::vector<double> like{0.0, kNaN, 0.0, 0.0, kNaN};
  const auto a = rnnad::random_uniform_scores(like, 7);
  const auto b = rnnad::random_uniform_scores(like, 7);
  const auto c = rnnad::random_uniform_scores(like, 8);
  REQUIRE(a.size() == 5);
  CHECK(std::isnan(a[1]));
  CHECK(std::isnan(a[4]));
  for (size_t i : {0u, 2u, 3u}) {
    CHECK(a[i] == b[i]);
    CHECK(a[i] != c[i]);
    CHECK((a[i] >= 0.0 && a[i] < 1.0));
  }
  // mean/min/max over seeds of a metric that returns the seed's first score.
  std::vector<double> seen;
  const rnnad::RandomBaseline rb = rnnad::random_score_baseline(
      like,
      [&](std::span<const double> r) {
        seen.push_back(r[0]);
        return r[0];
      },
      3, 7);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0] == a[0]);
  CHECK(seen[1] == c[0]);
  CHECK(rb.seeds == 3);
  CHECK(rb.mean == Approx((seen[0] + seen[1] + seen[2]) / 3));
  CHECK(rb.min == *std::min_element(seen.begin(), seen.end()));
  CHECK(rb.max == *std::max_element(seen.begin(), seen.end()));
  CHECK_THROWS_AS(rnnad::random_score_baseline(
                      like, [](std::span<const double>) { return 0.0; }, 0),
                  rnnad::Error);

  // Statistical sanity: the AP of random scores is the positive rate (0.1 here) on a long series.
  std::vector<uint8_t> lab(20000, 0);
  for (size_t i = 0; i < lab.size(); i += 10) lab[i] = 1;
  const std::vector<double> zeros(lab.size(), 0.0);
  const rnnad::RandomBaseline ap = rnnad::random_score_baseline(
      zeros, [&](std::span<const double> r) { return rnnad::average_precision(r, lab); }, 3);
  CHECK(ap.mean == Approx(0.1).margin(0.01));

  // Flag-count baseline: exactly k rows flagged. With every row anomalous, F1 = 2k/(k+n).
  const std::vector<uint8_t> all(10, 1);
  const rnnad::RandomBaseline fc =
      rnnad::random_f1_at_flag_count_baseline(std::vector<double>(10, 0.0), all, 5, rnnad::Adjust::none(), 2);
  CHECK(fc.mean == Approx(2.0 * 5 / 15));  // P 1, R 0.5 -> F1 2/3
  CHECK_THROWS_AS(rnnad::random_f1_at_flag_count_baseline(like, std::vector<uint8_t>(5, 0), 4, rnnad::Adjust::none()),
                  rnnad::Error);  // only 3 rows have a score
}

TEST_CASE("SMD machine-1-7: random scores reach a high point-adjusted F1", "[metrics][random][data]") {
  // The observation of issue 6 (and Kim et al., AAAI 2022): with long anomaly segments, uniform
  // random scores get a high PA-F1 at the oracle threshold, because one random hit fills a whole
  // segment. This is why rnnad always prints PA-F1 next to the random-score baseline.
  const std::vector<uint8_t> lab = rnnad::read_binary_labels(data_dir() / "smd" / "test_label" / "machine-1-7.txt");
  REQUIRE(lab.size() == 23697);
  const std::vector<double> like(lab.size(), 0.0);
  const rnnad::RandomBaseline pa = rnnad::random_best_f1_baseline(like, lab, rnnad::Adjust::point_adjust(), 5);
  const rnnad::RandomBaseline pw = rnnad::random_best_f1_baseline(like, lab, rnnad::Adjust::none(), 5);
  const rnnad::RandomBaseline k20 = rnnad::random_best_f1_baseline(like, lab, rnnad::Adjust::pa_k(20.0), 5);
  const rnnad::RandomBaseline ap = rnnad::random_score_baseline(
      like, [&](std::span<const double> r) { return rnnad::average_precision(r, lab); }, 5);
  WARN("SMD machine-1-7, uniform random scores, oracle threshold, mean over 5 seeds: PA-F1 "
       << pa.mean << " [" << pa.min << ", " << pa.max << "], PA%K(K=20) F1 " << k20.mean << ", point-wise F1 "
       << pw.mean << ", AP " << ap.mean);
  CHECK(pa.mean >= 0.5);
  CHECK(pa.min >= 0.5);
  // Point-wise, random scores stay near flag-everything: F1 = 2p/(1+p) with p = 2398/23697 =
  // 0.1012 -> 0.184; well below PA-F1.
  CHECK(pw.mean < 0.3);
  CHECK(pw.mean >= 2.0 * 0.1011 / 1.1011 - 1e-3);
  // AP of random scores ~ the anomalous share 0.101.
  CHECK(ap.mean == Approx(2398.0 / 23697).margin(0.02));
  CHECK(k20.mean < pa.mean);
}

TEST_CASE("event_prf counts segments as Telemanom's evaluate_sequences does", "[metrics]") {
  const std::vector<rnnad::RowRange> segments{{10, 20}, {30, 40}, {50, 60}};
  // [5, 12] and [15, 18] both hit segment 0 (counted once); [25, 28] hits nothing; [38, 52]
  // overlaps segments 1 and 2 but marks only the first (the reference's rule).
  const std::vector<rnnad::RowRange> events{{5, 12}, {15, 18}, {25, 28}, {38, 52}};
  const rnnad::Prf p = rnnad::event_prf(events, segments);
  CHECK(p.tp == 2);
  CHECK(p.fp == 1);
  CHECK(p.fn == 1);
  CHECK(p.precision == Approx(2.0 / 3.0));
  CHECK(p.recall == Approx(2.0 / 3.0));
  CHECK(rnnad::event_prf({}, segments).f1 == 0.0);
  CHECK(rnnad::event_prf(events, {}).fp == 4);
}
