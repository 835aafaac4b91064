// Evaluation metrics (rnnad/metrics.h; docs/evaluation.md).
#include "rnnad/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>

#include "rnnad/error.h"
#include "rnnad/labels.h"

namespace rnnad {
namespace {

void check_lengths(size_t a, size_t b, const char* a_name, const char* b_name, const char* fn) {
  if (a != b)
    throw ShapeError(std::string(fn) + ": " + a_name + " has " + std::to_string(a) + " rows, " + b_name + " has " +
                     std::to_string(b));
}

void check_k(double k_percent, const char* fn) {
  if (!(k_percent >= 0.0 && k_percent <= 100.0))
    throw Error(std::string(fn) + ": k_percent must be in [0, 100], got " + std::to_string(k_percent));
}

/// PA%K fill rule of tadpak's pak: hits > (k / 100) * length, strict.
bool fills(int64_t hits, int64_t length, double k_percent) {
  return static_cast<double>(hits) > k_percent / 100.0 * static_cast<double>(length);
}

/// Smallest hit count that fills a segment of `length` rows (length + 1 when none does).
int64_t min_hits_to_fill(int64_t length, double k_percent) {
  auto c = static_cast<int64_t>(std::floor(k_percent / 100.0 * static_cast<double>(length))) + 1;
  c = std::clamp<int64_t>(c, 0, length + 1);
  while (c > 0 && fills(c - 1, length, k_percent)) --c;
  while (c <= length && !fills(c, length, k_percent)) ++c;
  return c;
}

double ratio(int64_t num, int64_t den) { return den > 0 ? static_cast<double>(num) / static_cast<double>(den) : 0.0; }

/// A change of the counts when the threshold reaches `value` (from above).
struct Step {
  double value;
  int64_t dtp;
  int64_t dfp;
};

}  // namespace

Prf prf_from_counts(int64_t tp, int64_t fp, int64_t fn, int64_t tn) {
  Prf r;
  r.tp = tp;
  r.fp = fp;
  r.fn = fn;
  r.tn = tn;
  r.precision = ratio(tp, tp + fp);
  r.recall = ratio(tp, tp + fn);
  r.f1 = r.precision + r.recall > 0.0 ? 2.0 * r.precision * r.recall / (r.precision + r.recall) : 0.0;
  return r;
}

Prf event_prf(std::span<const RowRange> events, std::span<const RowRange> segments) {
  std::vector<uint8_t> detected(segments.size(), 0);
  int64_t fp = 0;
  std::size_t s = 0;  // first segment that may still overlap (events are sorted)
  for (const RowRange& e : events) {
    while (s < segments.size() && segments[s].last < e.first) ++s;
    if (s < segments.size() && segments[s].first <= e.last) detected[s] = 1;
    else ++fp;
  }
  const auto tp = static_cast<int64_t>(std::count(detected.begin(), detected.end(), uint8_t{1}));
  return prf_from_counts(tp, fp, static_cast<int64_t>(segments.size()) - tp, 0);
}

Prf point_prf(std::span<const uint8_t> predictions, std::span<const uint8_t> labels) {
  check_lengths(predictions.size(), labels.size(), "predictions", "labels", "point_prf");
  int64_t tp = 0, fp = 0, fn = 0, tn = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const bool p = predictions[i] != 0;
    const bool l = labels[i] != 0;
    tp += p && l;
    fp += p && !l;
    fn += !p && l;
    tn += !p && !l;
  }
  return prf_from_counts(tp, fp, fn, tn);
}

std::vector<uint8_t> flags_at_threshold(std::span<const double> scores, double threshold) {
  std::vector<uint8_t> flags(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) flags[i] = scores[i] >= threshold ? 1 : 0;  // NaN: false
  return flags;
}

std::vector<uint8_t> point_adjust(std::span<const uint8_t> predictions, std::span<const uint8_t> labels,
                                  double k_percent) {
  check_lengths(predictions.size(), labels.size(), "predictions", "labels", "point_adjust");
  check_k(k_percent, "point_adjust");
  std::vector<uint8_t> out(predictions.size());
  for (size_t i = 0; i < predictions.size(); ++i) out[i] = predictions[i] != 0 ? 1 : 0;
  for (const RowRange& seg : label_runs(labels)) {
    int64_t hits = 0;
    for (int64_t i = seg.first; i <= seg.last; ++i) hits += out[i];
    if (fills(hits, seg.length(), k_percent))
      std::fill(out.begin() + seg.first, out.begin() + seg.last + 1, uint8_t{1});
  }
  return out;
}

Prf adjusted_prf(std::span<const uint8_t> predictions, std::span<const uint8_t> labels, double k_percent) {
  const std::vector<uint8_t> adjusted = point_adjust(predictions, labels, k_percent);
  return point_prf(adjusted, labels);
}

Prf evaluate_predictions(std::span<const uint8_t> predictions, std::span<const uint8_t> labels, Adjust adjust) {
  return adjust.enabled ? adjusted_prf(predictions, labels, adjust.k_percent) : point_prf(predictions, labels);
}

PakCurve pak_curve(std::span<const uint8_t> predictions, std::span<const uint8_t> labels, double step_percent) {
  check_lengths(predictions.size(), labels.size(), "predictions", "labels", "pak_curve");
  const double steps_real = 100.0 / step_percent;
  const double steps_rounded = std::round(steps_real);
  if (!(step_percent >= 1.0 && step_percent <= 100.0) || std::abs(steps_real - steps_rounded) > 1e-9)
    throw Error("pak_curve: step_percent must be in [1, 100] and divide 100, got " + std::to_string(step_percent));
  const auto steps = static_cast<int64_t>(steps_rounded);
  PakCurve curve;
  for (int64_t s = 0; s <= steps; ++s) {
    // K = 100 exactly at the last step, whatever the rounding of s * step.
    const double k = s == steps ? 100.0 : static_cast<double>(s) * step_percent;
    curve.k_percent.push_back(k);
    curve.f1.push_back(adjusted_prf(predictions, labels, k).f1);
  }
  for (size_t s = 0; s + 1 < curve.f1.size(); ++s)
    curve.auc += 0.5 * (curve.f1[s] + curve.f1[s + 1]) * (curve.k_percent[s + 1] - curve.k_percent[s]) / 100.0;
  return curve;
}

BestF1 best_f1_oracle(std::span<const double> scores, std::span<const uint8_t> labels, Adjust adjust) {
  check_lengths(scores.size(), labels.size(), "scores", "labels", "best_f1_oracle");
  if (adjust.enabled) check_k(adjust.k_percent, "best_f1_oracle");

  int64_t positives = 0;
  for (uint8_t l : labels) positives += l != 0;
  const int64_t negatives = static_cast<int64_t>(labels.size()) - positives;

  // Every threshold t is described by the counts at t; each Step says how TP/FP grow when t
  // reaches `value` from above. Unlabelled rows add one FP at their score. A segment without
  // adjustment adds one TP per row at its score; with adjustment, at the m-th largest score v_m
  // of the segment (m = hits needed to fill it) the segment is filled: rows above v_m add one TP
  // each as before, and at v_m the rest of the segment (NaN rows included) is added at once.
  std::vector<Step> steps;
  steps.reserve(scores.size() + 16);
  for (size_t i = 0; i < scores.size(); ++i)
    if (labels[i] == 0 && !std::isnan(scores[i])) steps.push_back({scores[i], 0, 1});
  std::vector<double> seg_scores;
  for (const RowRange& seg : label_runs(labels)) {
    seg_scores.clear();
    for (int64_t i = seg.first; i <= seg.last; ++i)
      if (!std::isnan(scores[i])) seg_scores.push_back(scores[i]);
    std::sort(seg_scores.begin(), seg_scores.end(), std::greater<double>());
    const int64_t m = adjust.enabled ? min_hits_to_fill(seg.length(), adjust.k_percent) : seg.length() + 1;
    if (m >= 1 && m <= static_cast<int64_t>(seg_scores.size())) {
      const double vm = seg_scores[static_cast<size_t>(m - 1)];
      int64_t above = 0;
      for (double v : seg_scores) {
        if (!(v > vm)) break;
        steps.push_back({v, 1, 0});
        ++above;
      }
      steps.push_back({vm, seg.length() - above, 0});
    } else {
      // m == 0 cannot happen (0 hits never exceed k/100 * length >= 0); m beyond the scored
      // rows: never filled, rows count one by one.
      for (double v : seg_scores) steps.push_back({v, 1, 0});
    }
  }
  std::sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) { return a.value > b.value; });

  BestF1 best;
  bool found = false;
  int64_t tp = 0, fp = 0;
  for (size_t i = 0; i < steps.size();) {
    const double value = steps[i].value;
    for (; i < steps.size() && steps[i].value == value; ++i) {
      tp += steps[i].dtp;
      fp += steps[i].dfp;
    }
    const Prf prf = prf_from_counts(tp, fp, positives - tp, negatives - fp);
    if (prf.f1 > (found ? best.at_best.f1 : 0.0)) {
      best.threshold = value;
      best.at_best = prf;
      found = true;
    }
  }
  if (!found) {
    best.threshold = std::numeric_limits<double>::infinity();
    best.at_best = evaluate_predictions(flags_at_threshold(scores, best.threshold), labels, adjust);
  }
  return best;
}

double average_precision(std::span<const double> scores, std::span<const uint8_t> labels) {
  check_lengths(scores.size(), labels.size(), "scores", "labels", "average_precision");
  int64_t positives = 0;
  for (uint8_t l : labels) positives += l != 0;
  if (positives == 0) return 0.0;
  std::vector<Step> steps;
  steps.reserve(scores.size());
  for (size_t i = 0; i < scores.size(); ++i)
    if (!std::isnan(scores[i])) steps.push_back({scores[i], labels[i] != 0 ? 1 : 0, labels[i] != 0 ? 0 : 1});
  std::sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) { return a.value > b.value; });
  double ap = 0.0;
  double prev_recall = 0.0;
  int64_t tp = 0, fp = 0;
  for (size_t i = 0; i < steps.size();) {
    const double value = steps[i].value;
    for (; i < steps.size() && steps[i].value == value; ++i) {
      tp += steps[i].dtp;
      fp += steps[i].dfp;
    }
    const double recall = ratio(tp, positives);
    ap += (recall - prev_recall) * ratio(tp, tp + fp);
    prev_recall = recall;
  }
  return ap;
}

std::vector<double> random_uniform_scores(std::span<const double> like, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<double> out(like.size());
  for (size_t i = 0; i < like.size(); ++i) {
    const uint64_t x = gen();  // drawn for every row, so NaN rows do not shift the others
    out[i] = std::isnan(like[i]) ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(x >> 11) * 0x1.0p-53;
  }
  return out;
}

RandomBaseline random_score_baseline(std::span<const double> like,
                                     const std::function<double(std::span<const double>)>& metric, int seeds,
                                     uint64_t first_seed) {
  if (seeds < 1) throw Error("random_score_baseline: seeds must be >= 1, got " + std::to_string(seeds));
  RandomBaseline b;
  b.seeds = seeds;
  double sum = 0.0;
  for (int s = 0; s < seeds; ++s) {
    const std::vector<double> random = random_uniform_scores(like, first_seed + static_cast<uint64_t>(s));
    const double v = metric(random);
    sum += v;
    b.min = s == 0 ? v : std::min(b.min, v);
    b.max = s == 0 ? v : std::max(b.max, v);
  }
  b.mean = sum / seeds;
  return b;
}

RandomBaseline random_best_f1_baseline(std::span<const double> like, std::span<const uint8_t> labels, Adjust adjust,
                                       int seeds, uint64_t first_seed) {
  check_lengths(like.size(), labels.size(), "scores", "labels", "random_best_f1_baseline");
  return random_score_baseline(
      like, [&](std::span<const double> s) { return best_f1_oracle(s, labels, adjust).at_best.f1; }, seeds, first_seed);
}

RandomBaseline random_f1_at_flag_count_baseline(std::span<const double> like, std::span<const uint8_t> labels,
                                                int64_t flagged_rows, Adjust adjust, int seeds, uint64_t first_seed) {
  check_lengths(like.size(), labels.size(), "scores", "labels", "random_f1_at_flag_count_baseline");
  if (adjust.enabled) check_k(adjust.k_percent, "random_f1_at_flag_count_baseline");
  const auto scored =
      static_cast<int64_t>(std::count_if(like.begin(), like.end(), [](double v) { return !std::isnan(v); }));
  if (flagged_rows < 0 || flagged_rows > scored)
    throw Error("random_f1_at_flag_count_baseline: flagged_rows = " + std::to_string(flagged_rows) +
                " is outside [0, " + std::to_string(scored) + "] (rows with a score)");
  return random_score_baseline(
      like,
      [&](std::span<const double> s) {
        std::vector<int64_t> idx;
        idx.reserve(static_cast<size_t>(scored));
        for (size_t i = 0; i < s.size(); ++i)
          if (!std::isnan(s[i])) idx.push_back(static_cast<int64_t>(i));
        auto higher = [&](int64_t a, int64_t b) { return s[a] != s[b] ? s[a] > s[b] : a < b; };
        std::nth_element(idx.begin(), idx.begin() + flagged_rows, idx.end(), higher);
        std::vector<uint8_t> flags(s.size(), 0);
        for (int64_t r = 0; r < flagged_rows; ++r) flags[idx[r]] = 1;
        return evaluate_predictions(flags, labels, adjust).f1;
      },
      seeds, first_seed);
}

}  // namespace rnnad
