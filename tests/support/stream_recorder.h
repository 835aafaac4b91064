// Test support for StreamPool tests: the F25 series, a sink that records every final row per
// stream, and the comparison of recorded rows with the batch Scorer (the reference).
#pragma once

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "rnnad/stream_pool.h"
#include "rnnad/tolerance.h"

namespace rnnad::test {

/// Field case F25's series widened to `features` columns: v_t = sin(0.07 t + 0.5 f) +
/// 0.1 sin(1.3 t + f) (+ 2 from t = 250 on), shifted by `offset`. Row-major [rows, features].
inline std::vector<double> f25_series(int64_t rows, int64_t features, double offset = 0.0) {
  std::vector<double> v(static_cast<std::size_t>(rows * features));
  for (int64_t t = 0; t < rows; ++t)
    for (int64_t f = 0; f < features; ++f)
      v[static_cast<std::size_t>(t * features + f)] = offset + std::sin(0.07 * static_cast<double>(t) + 0.5 * static_cast<double>(f)) +
                                                      0.1 * std::sin(1.3 * static_cast<double>(t) + static_cast<double>(f)) +
                                                      (t >= 250 ? 2.0 : 0.0);
  return v;
}

/// One recorded final row.
struct RecordedRow {
  int64_t row = 0, timestamp = 0, lag = 0;
  double score = 0.0, threshold = 0.0;
  RowVerdict verdict = RowVerdict::NoScore;
  std::vector<double> contributions;
};

/// Records every row a StreamPool emits, per stream (allocates: not for allocation tests).
struct Recorder {
  std::map<uint64_t, std::vector<RecordedRow>> rows;
  void operator()(const ScoredRow& r) {
    rows[r.stream].push_back({r.row, r.timestamp, r.lag, r.score, r.threshold, r.verdict,
                              std::vector<double>(r.contributions.begin(), r.contributions.end())});
  }
};

/// |a − b| <= kScore · max(|b|, median |reference|), NaN only where the reference is NaN.
inline double score_scale(const std::vector<double>& reference) {
  std::vector<double> a;
  for (double v : reference)
    if (!std::isnan(v)) a.push_back(std::abs(v));
  if (a.empty()) return 0.0;
  std::nth_element(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(a.size() / 2), a.end());
  return a[a.size() / 2];
}

inline bool same_score(double a, double b, double median) {
  if (std::isnan(b)) return std::isnan(a);
  return !std::isnan(a) && std::abs(a - b) <= tolerance::kScore * std::max(std::abs(b), median);
}

/// Checks that `got` holds rows 0 .. scores.size()-1 in order with the reference scores and
/// contributions [rows, F'].
inline void check_rows_equal_batch(const std::vector<RecordedRow>& got, const std::vector<double>& scores,
                                   const std::vector<double>& contributions, const std::string& what) {
  INFO(what);
  REQUIRE(got.size() == scores.size());
  const double median = score_scale(scores);
  const std::size_t fp = scores.empty() ? 0 : contributions.size() / scores.size();
  const double cmedian = score_scale(contributions);
  int bad = 0;
  for (std::size_t r = 0; r < scores.size() && bad < 5; ++r) {
    INFO("row " << r << ": stream " << got[r].score << ", batch " << scores[r]);
    CHECK(got[r].row == static_cast<int64_t>(r));
    const bool ok = same_score(got[r].score, scores[r], median);
    CHECK(ok);
    REQUIRE(got[r].contributions.size() == fp);
    bool cok = true;
    for (std::size_t f = 0; f < fp; ++f) cok = cok && same_score(got[r].contributions[f], contributions[r * fp + f], cmedian);
    CHECK(cok);
    bad += ok && cok ? 0 : 1;
  }
}

}  // namespace rnnad::test
