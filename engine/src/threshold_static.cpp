// Static thresholds and numpy-exact score statistics (docs/thresholds.md, "Static thresholds").
#include "rnnad/threshold_static.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "rnnad/error.h"

namespace rnnad {
namespace {

// numpy's pairwise summation (numpy/core/src/umath/loops_utils.h.src, DOUBLE_pairwise_sum):
// blocks of < 8 summed left to right, blocks of <= 128 with 8 interleaved accumulators, larger
// blocks split in two at a multiple of 8. `at(i)` yields element i of the block starting at `lo`.
constexpr int64_t kPairwiseBlock = 128;
// numpy reduces a contiguous array in buffers of 8192 elements (np.getbufsize()), adding the
// pairwise sum of each buffer to the running total.
constexpr int64_t kNumpyBuffer = 8192;

template <class At>
double pairwise_sum(const At& at, int64_t lo, int64_t n) {
  if (n < 8) {
    double res = 0.0;
    for (int64_t i = 0; i < n; ++i) res += at(lo + i);
    return res;
  }
  if (n <= kPairwiseBlock) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = at(lo + j);
    int64_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += at(lo + i + j);
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += at(lo + i);
    return res;
  }
  int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(at, lo, n2) + pairwise_sum(at, lo + n2, n - n2);
}

template <class At>
double numpy_sum(const At& at, int64_t n) {
  double total = 0.0;
  for (int64_t lo = 0; lo < n; lo += kNumpyBuffer) {
    total += pairwise_sum(at, lo, std::min(kNumpyBuffer, n - lo));
  }
  return total;
}

void check_no_infinity(std::span<const double> scores, const char* what) {
  for (size_t i = 0; i < scores.size(); ++i) {
    if (std::isinf(scores[i])) {
      throw Error(std::string(what) + ": " + "row " + std::to_string(i) + " holds " + (scores[i] > 0 ? "+" : "-") +
                  "infinity; a threshold needs finite scores (NaN marks \"no score\")");
    }
  }
}

void check_q(double q, const char* what) {
  if (!(q >= 0.0 && q <= 100.0)) {
    throw Error(std::string(what) + ": q must be a percentage in [0, 100], got " + std::to_string(q));
  }
}

// numpy's _lerp: a + (b − a)·t, or b − (b − a)·(1 − t) for t >= 0.5.
double numpy_lerp(double a, double b, double t) {
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

// Percentile (numpy linear method) of `values` (finite, non-empty); partially reorders them.
double percentile_in_place(std::vector<double>& values, double q) {
  const auto n = static_cast<int64_t>(values.size());
  const double virtual_index = static_cast<double>(n - 1) * (q / 100.0);
  if (virtual_index >= static_cast<double>(n - 1)) {
    return *std::max_element(values.begin(), values.end());
  }
  const double lo_f = std::floor(virtual_index);
  const auto lo = static_cast<int64_t>(lo_f);
  std::nth_element(values.begin(), values.begin() + lo, values.end());
  const double a = values[static_cast<size_t>(lo)];
  const double b = *std::min_element(values.begin() + lo + 1, values.end());
  return numpy_lerp(a, b, virtual_index - lo_f);
}

std::vector<double> finite_copy(std::span<const double> scores, const char* what) {
  check_no_infinity(scores, what);
  std::vector<double> values;
  values.reserve(scores.size());
  for (double v : scores) {
    if (!std::isnan(v)) values.push_back(v);
  }
  if (values.empty()) {
    throw Error(std::string(what) + ": no score to use: all " + std::to_string(scores.size()) +
                " rows are NaN (\"no score\")");
  }
  return values;
}

}  // namespace

ScoreStats score_stats(std::span<const double> scores) {
  check_no_infinity(scores, "score_stats");
  const auto n = static_cast<int64_t>(scores.size());
  ScoreStats stats;
  // The first value with a score, and whether every scored row equals it (F12: a constant
  // series has mean = the value and std = 0 exactly).
  double first = 0.0;
  bool all_equal = true;
  for (double v : scores) {
    if (std::isnan(v)) continue;
    if (stats.count == 0) {
      first = v;
    } else if (v != first) {
      all_equal = false;
    }
    ++stats.count;
  }
  if (stats.count == 0) return stats;
  if (all_equal) {
    stats.mean = first;
    stats.stddev = 0.0;
    return stats;
  }
  // numpy nanmean / nanstd: NaN rows contribute 0 to the pairwise sums, counts exclude them.
  const double* x = scores.data();
  const double count = static_cast<double>(stats.count);
  const double sum = numpy_sum([x](int64_t i) { return std::isnan(x[i]) ? 0.0 : x[i]; }, n);
  stats.mean = sum / count;
  const double mean = stats.mean;
  const double sq = numpy_sum(
      [x, mean](int64_t i) {
        if (std::isnan(x[i])) return 0.0;
        const double d = x[i] - mean;
        return d * d;
      },
      n);
  stats.stddev = std::sqrt(sq / count);
  return stats;
}

double score_percentile(std::span<const double> scores, double q) {
  check_q(q, "score_percentile");
  std::vector<double> values = finite_copy(scores, "score_percentile");
  return percentile_in_place(values, q);
}

std::vector<double> score_percentiles(std::span<const double> scores, std::span<const double> q) {
  for (double qi : q) check_q(qi, "score_percentiles");
  std::vector<double> values = finite_copy(scores, "score_percentiles");
  std::vector<double> out;
  out.reserve(q.size());
  for (double qi : q) out.push_back(percentile_in_place(values, qi));
  return out;
}

double threshold_fixed(double value) {
  if (!std::isfinite(value)) {
    throw Error("threshold_fixed: value must be finite, got " + std::to_string(value));
  }
  return value;
}

double threshold_quantile(std::span<const double> validation_scores, double q) {
  check_q(q, "threshold_quantile");
  std::vector<double> values = finite_copy(validation_scores, "threshold_quantile: validation_scores");
  return percentile_in_place(values, q);
}

double threshold_mean_std(std::span<const double> validation_scores, double k) {
  if (!std::isfinite(k)) {
    throw Error("threshold_mean_std: k must be finite, got " + std::to_string(k));
  }
  check_no_infinity(validation_scores, "threshold_mean_std: validation_scores");
  const ScoreStats stats = score_stats(validation_scores);
  if (stats.count == 0) {
    throw Error("threshold_mean_std: validation_scores: no score to use: all " +
                std::to_string(validation_scores.size()) + " rows are NaN (\"no score\")");
  }
  // std = 0 (a constant series) gives exactly the mean; k·0 = 0 for any finite k.
  return stats.mean + k * stats.stddev;
}

double fit_static_threshold(std::span<const double> validation_scores, const StaticThresholdParams& params) {
  switch (params.rule) {
    case StaticRule::Fixed:
      return threshold_fixed(params.value);
    case StaticRule::Quantile:
      return threshold_quantile(validation_scores, params.q);
    case StaticRule::MeanStd:
      return threshold_mean_std(validation_scores, params.k);
  }
  throw Error("fit_static_threshold: unknown rule");
}

std::vector<uint8_t> flag_scores(std::span<const double> scores, double threshold) {
  if (std::isnan(threshold)) throw Error("flag_scores: threshold is NaN");
  std::vector<uint8_t> flags(scores.size(), 0);
  // NaN > threshold is false: "no score" rows are never flagged.
  for (size_t i = 0; i < scores.size(); ++i) flags[i] = scores[i] > threshold ? 1 : 0;
  return flags;
}

int64_t count_flagged(std::span<const double> scores, double threshold) {
  if (std::isnan(threshold)) throw Error("count_flagged: threshold is NaN");
  int64_t n = 0;
  for (double v : scores) n += v > threshold ? 1 : 0;
  return n;
}

}  // namespace rnnad
