// Telemanom's nonparametric dynamic threshold (docs/thresholds.md; algorithms.md §1).
//
// Structure: telemanom_detect smooths the errors, lays out the windows (Batch or Sliding), and
// runs WindowRunner::run once per window. A window computes its statistics, searches ε for the
// errors and for the mirrored errors (search_epsilon), turns the values above ε into candidate
// runs with the error buffer (candidates), prunes them (prune), and scores the union.
// Flagged rows are kept as one mark per row of the series, so "flagged in an earlier window"
// is a lookup and the final set needs no sorting.
#include "rnnad/telemanom.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <limits>
#include <string>

#include "rnnad/error.h"
#include "rnnad/threshold_static.h"

namespace rnnad {
namespace {

// Inclusive run [lo, hi] of rows.
struct Run {
  int64_t lo = 0;
  int64_t hi = 0;
  int64_t size() const { return hi - lo + 1; }
};

// The reference's initial best objective value (find_epsilon: max_score = -10000000).
constexpr double kInitialBest = -10000000.0;
// A window whose σ is at most this fraction of |μ| is constant up to rounding (F12).
constexpr double kFlatRelative = 1e-12;

// Integer parameters stay below this, so row arithmetic (c ± error_buffer, k + l_s, 2·l_s) never
// overflows.
constexpr int64_t kMaxCount = int64_t{1} << 53;

std::string num(double v) { return std::to_string(v); }

void check_params(const TelemanomParams& p) {
  auto fail = [](const std::string& name, const std::string& rule, const std::string& got) {
    throw Error("telemanom: " + name + " must be " + rule + ", got " + got);
  };
  if (p.l_s < 0 || p.l_s > kMaxCount) fail("l_s", "in [0, 2^53]", std::to_string(p.l_s));
  if (p.batch_size < 1 || p.batch_size > kMaxCount) fail("batch_size", "in [1, 2^53]", std::to_string(p.batch_size));
  if (p.window_size < 1 || p.window_size > kMaxCount / p.batch_size) {
    fail("window_size", ">= 1 with batch_size·window_size <= 2^53", std::to_string(p.window_size));
  }
  if (!(std::isfinite(p.smoothing_perc) && p.smoothing_perc >= 0.0)) {
    fail("smoothing_perc", "finite and >= 0", num(p.smoothing_perc));
  }
  if (static_cast<double>(p.batch_size * p.window_size) * p.smoothing_perc >= 9.0e18) {
    fail("smoothing_perc", "small enough for batch_size·window_size·smoothing_perc to fit int64",
         num(p.smoothing_perc));
  }
  if (p.error_buffer < 0 || p.error_buffer > kMaxCount)
    fail("error_buffer", "in [0, 2^53]", std::to_string(p.error_buffer));
  if (!(std::isfinite(p.p) && p.p >= 0.0)) fail("p", "finite and >= 0", num(p.p));
  if (!(std::isfinite(p.sd_lim) && p.sd_lim >= 2.5)) fail("sd_lim", "finite and >= 2.5", num(p.sd_lim));
  if (p.num_to_ignore < -1 || p.num_to_ignore > kMaxCount) {
    fail("num_to_ignore", "in [-1, 2^53] (-1 = the reference's rule)", std::to_string(p.num_to_ignore));
  }
  if (p.history < 0 || p.history > kMaxCount) {
    fail("history", "in [0, 2^53] (0 = batch_size·window_size)", std::to_string(p.history));
  }
  if (p.history > 0 && p.history < p.batch_size) {
    fail("history", ">= batch_size (" + std::to_string(p.batch_size) + ") or 0", std::to_string(p.history));
  }
  if (std::isnan(p.min_error)) fail("min_error", "a number (-infinity disables the gate)", "NaN");
  if (!(std::isfinite(p.target_gate) && p.target_gate >= 0.0))
    fail("target_gate", "finite and >= 0", num(p.target_gate));
  if (p.mode != TelemanomMode::Batch && p.mode != TelemanomMode::Sliding)
    fail("mode", "Batch or Sliding", "an unknown value");
}

void check_errors(std::span<const double> errors, const char* what) {
  if (errors.empty()) throw Error(std::string(what) + ": errors is empty (need at least 1 row)");
  for (size_t i = 0; i < errors.size(); ++i) {
    if (!std::isfinite(errors[i])) {
      throw Error(std::string(what) + ": errors[" + std::to_string(i) + "] is " + num(errors[i]) +
                  "; Telemanom needs a complete finite series (NaN \"no score\" rows must be removed "
                  "first, e.g. pass the subspan after the leading ones and add its offset)");
    }
  }
}

int64_t smoothing_span(const TelemanomParams& p) {
  // Python: int(batch_size * window_size * smoothing_perc), the product of the ints first.
  return static_cast<int64_t>(static_cast<double>(p.batch_size * p.window_size) * p.smoothing_perc);
}

int64_t history_rows(const TelemanomParams& p) { return p.history > 0 ? p.history : p.batch_size * p.window_size; }

int64_t resolve_num_to_ignore(const TelemanomParams& p, int64_t n_rows) {
  if (p.num_to_ignore >= 0) return p.num_to_ignore;
  // ErrorWindow.__init__: 2·l_s, fewer for short channels.
  if (n_rows < 1800) return 0;
  if (n_rows < 2500) return p.l_s;
  return 2 * p.l_s;
}

// Merges the intervals [c − b, c + b] around sorted centres into maximal runs clipped to
// [lo, hi] (adjacent intervals merge: a run is a maximal set of consecutive rows).
void buffer_runs(const std::vector<int64_t>& centres, int64_t b, int64_t lo, int64_t hi, std::vector<Run>& out) {
  out.clear();
  for (int64_t c : centres) {
    const int64_t a = std::max(lo, c - b);
    const int64_t z = std::min(hi, c + b);
    if (a > z) continue;
    if (!out.empty() && a <= out.back().hi + 1) {
      out.back().hi = std::max(out.back().hi, z);
    } else {
      out.push_back({a, z});
    }
  }
}

int64_t total_size(const std::vector<Run>& runs) {
  int64_t n = 0;
  for (const Run& r : runs) n += r.size();
  return n;
}

// Relative drop from a to the next smaller value b (pruning). The reference divides by a,
// which is > 0 for errors; for a <= 0 (signed scores or the mirrored series) we divide by |a|,
// and a = 0 gives 0 for b = 0 and +inf for b < 0 — never NaN.
double relative_drop(double a, double b) {
  const double d = a - b;
  if (a == 0.0) return d > 0.0 ? std::numeric_limits<double>::infinity() : 0.0;
  return d / std::fabs(a);
}

// Everything one window needs, with scratch buffers reused across windows.
class WindowRunner {
 public:
  WindowRunner(const std::vector<double>& e_s, const TelemanomParams& params, const TelemanomTargets& targets,
               int64_t num_to_ignore, std::vector<uint8_t>& marks)
      : m_es(e_s),
        m_p(params),
        m_targets(targets),
        m_nti(num_to_ignore),
        m_marks(marks),
        m_n(static_cast<int64_t>(e_s.size())) {}

  void run(TelemanomWindow& w, std::vector<TelemanomScore>& all_scores);

 private:
  struct Side {
    const double* x = nullptr;  // window values, x[0] = row w.start
    double epsilon = 0.0;
    std::vector<Run> candidates;  // global rows, sorted, maximal
    std::vector<Run> kept;
    std::optional<double> non_anom_max;
  };

  void window_stats(TelemanomWindow& w);
  void search_epsilon(const double* x, int64_t n, double mu, double sigma, double& z_out, double& eps_out);
  void candidates(const TelemanomWindow& w, Side& side, bool gate_open, double row_gate);
  void prune(const TelemanomWindow& w, Side& side);

  const std::vector<double>& m_es;
  const TelemanomParams& m_p;
  const TelemanomTargets& m_targets;
  int64_t m_nti;
  std::vector<uint8_t>& m_marks;  // 1 = row flagged by an earlier window
  int64_t m_n;

  std::vector<double> m_inv;    // mirrored window values
  std::vector<double> m_below;  // values below a candidate ε
  std::vector<int64_t> m_centres;
  std::vector<Run> m_runs;
  std::vector<Run> m_union;
  std::vector<double> m_maxima;
  std::vector<double> m_sorted;
};

void WindowRunner::window_stats(TelemanomWindow& w) {
  const int64_t n = w.end - w.start;
  const ScoreStats s = score_stats(std::span<const double>(m_es.data() + w.start, static_cast<size_t>(n)));
  w.mean_e_s = s.mean;
  w.sd_e_s = s.stddev;
  w.flat = !(w.sd_e_s > kFlatRelative * std::fabs(w.mean_e_s));
  if (!m_targets.y_test.empty()) {
    const auto cols = m_targets.columns;
    const std::span<const double> y(m_targets.y_test.data() + w.start * cols, static_cast<size_t>(n * cols));
    w.sd_values = score_stats(y).stddev;
    static constexpr double kQ[2] = {95.0, 5.0};
    const std::vector<double> perc = score_percentiles(y, kQ);
    w.perc_high = perc[0];
    w.perc_low = perc[1];
    w.inter_range = w.perc_high - w.perc_low;
  }
}

// find_epsilon (algorithms.md §1.7): for z = 2.5, 3.0, ... < sd_lim, the values >= μ + zσ plus
// ±(error_buffer − 1) neighbours form A; E = runs of A with >= 2 rows; the objective is
// ((μ − mean(below))/μ + (σ − std(below))/σ) / (E² + |A|), admissible if E <= 5 and
// |A| < n/2; the largest admissible objective wins, ties to the larger z.
void WindowRunner::search_epsilon(const double* x, int64_t n, double mu, double sigma, double& z_out, double& eps_out) {
  z_out = m_p.sd_lim;
  eps_out = mu + m_p.sd_lim * sigma;
  const auto n_z = static_cast<int64_t>(std::ceil((m_p.sd_lim - 2.5) / 0.5));  // numpy arange length
  const int64_t b = std::max<int64_t>(0, m_p.error_buffer - 1);
  double best = kInitialBest;
  int64_t prev_count = -1;
  bool prev_accepted = false;
  for (int64_t iz = 0; iz < n_z; ++iz) {
    const double z = 2.5 + static_cast<double>(iz) * 0.5;
    const double thr = mu + sigma * z;
    int64_t count = 0;
    for (int64_t i = 0; i < n; ++i) count += x[i] >= thr ? 1 : 0;
    // The sets {x >= μ + zσ} shrink as z grows: an empty one stays empty, and one of the same
    // size as the previous z's is the same set, with the same objective and the same outcome.
    if (count == 0) break;
    if (count == prev_count) {
      if (prev_accepted) {
        z_out = z;
        eps_out = mu + z * sigma;
      }
      continue;
    }
    prev_count = count;
    prev_accepted = false;
    m_below.clear();
    m_centres.clear();
    for (int64_t i = 0; i < n; ++i) {
      if (x[i] < thr) {
        m_below.push_back(x[i]);
      } else {
        m_centres.push_back(i);
      }
    }
    if (m_below.empty()) continue;  // the reference's objective would be NaN: never wins
    buffer_runs(m_centres, b, 0, n - 1, m_runs);
    const int64_t a_size = total_size(m_runs);
    int64_t e_count = 0;
    for (const Run& r : m_runs) e_count += r.size() >= 2 ? 1 : 0;
    const ScoreStats below = score_stats(m_below);
    // μ > 0 for errors, where this is the reference's (μ − mean)/μ; |μ| keeps the sign meaning
    // "relative decrease" for signed scores, and μ = 0 contributes nothing instead of ±inf/NaN.
    const double mean_decrease = mu != 0.0 ? (mu - below.mean) / std::fabs(mu) : 0.0;
    const double sd_decrease = (sigma - below.stddev) / sigma;
    const double objective = (mean_decrease + sd_decrease) / static_cast<double>(e_count * e_count + a_size);
    if (objective >= best && e_count <= 5 && static_cast<double>(a_size) < static_cast<double>(n) * 0.5) {
      best = objective;
      z_out = z;
      eps_out = mu + z * sigma;
      prev_accepted = true;
    }
  }
}

// compare_to_epsilon (algorithms.md §1.8) for one side: values >= ε (and > target_gate·IR
// with targets) become centres; their ±error_buffer rows, clipped to the rows this window may
// flag, are the candidates; non_anom_max is the largest value of a window row that is neither
// a candidate nor flagged by an earlier window.
void WindowRunner::candidates(const TelemanomWindow& w, Side& side, bool gate_open, double row_gate) {
  side.candidates.clear();
  side.non_anom_max.reset();
  if (!gate_open) return;
  const int64_t n = w.end - w.start;
  const bool sliding = m_p.mode == TelemanomMode::Sliding;
  // Batch: any row of the window may be a centre (its buffer may reach the judged rows), as in
  // the reference. Sliding: only the rows judged now (each row is judged once, when new).
  const int64_t centre_lo = sliding ? w.judge_start - w.start : 0;
  m_centres.clear();
  for (int64_t i = centre_lo; i < n; ++i) {
    if (side.x[i] >= side.epsilon && side.x[i] > row_gate) m_centres.push_back(w.start + i);
  }
  if (m_centres.empty()) return;
  const int64_t lo = sliding ? m_nti : w.judge_start;
  const int64_t hi = sliding ? m_n - 1 : w.end - 1;
  buffer_runs(m_centres, m_p.error_buffer, std::max<int64_t>(lo, 0), hi, side.candidates);
  // Baseline for pruning: walk the window and the sorted candidate runs together.
  size_t r = 0;
  bool have = false;
  double best = 0.0;
  for (int64_t row = w.start; row < w.end; ++row) {
    while (r < side.candidates.size() && side.candidates[r].hi < row) ++r;
    const bool is_candidate = r < side.candidates.size() && side.candidates[r].lo <= row;
    if (is_candidate || m_marks[static_cast<size_t>(row)] != 0) continue;
    const double v = side.x[row - w.start];
    if (!have || v > best) {
      best = v;
      have = true;
    }
  }
  if (have) side.non_anom_max = best;
}

// prune_anoms (algorithms.md §1.9), without the reference's crash: with the maxima of the
// sequences (runs of >= 2 candidates) sorted descending and the baseline non_anom_max appended,
// find the last consecutive pair whose relative drop is >= p; the sequences above that drop
// stay, the others go (ties follow the reference: a sequence goes when its maximum equals any
// value below the drop). No such drop: all go. No sequences: the candidates stay as they are
// (single rows included). No baseline (every window row is flagged): all stay.
void WindowRunner::prune(const TelemanomWindow& w, Side& side) {
  side.kept = side.candidates;
  m_maxima.clear();
  for (const Run& r : side.candidates) {
    if (r.size() < 2) continue;
    // Maximum over the run's rows inside the window (Sliding: the forward buffer may reach
    // rows past the window's end, which are not known yet when this window is evaluated).
    const int64_t lo = std::max(r.lo, w.start);
    const int64_t hi = std::min(r.hi, w.end - 1);
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t row = lo; row <= hi; ++row) m = std::max(m, side.x[row - w.start]);
    m_maxima.push_back(m);
  }
  if (m_maxima.empty()) return;
  m_sorted = m_maxima;
  std::sort(m_sorted.begin(), m_sorted.end(), std::greater<>());
  const size_t k = m_sorted.size();
  m_sorted.push_back(side.non_anom_max ? *side.non_anom_max : -std::numeric_limits<double>::infinity());
  // cut = 1 + the position of the last large drop (0 when there is none).
  size_t cut = 0;
  for (size_t i = 0; i < k; ++i) {
    if (relative_drop(m_sorted[i], m_sorted[i + 1]) >= m_p.p) cut = i + 1;
  }
  side.kept.clear();
  size_t j = 0;
  for (const Run& r : side.candidates) {
    if (r.size() < 2) continue;  // single rows are dropped once sequences exist (reference)
    const bool removed = cut < k && m_maxima[j] <= m_sorted[cut];
    ++j;
    if (!removed) side.kept.push_back(r);
  }
}

void WindowRunner::run(TelemanomWindow& w, std::vector<TelemanomScore>& all_scores) {
  const int64_t n = w.end - w.start;
  window_stats(w);
  const double mu = w.mean_e_s;
  const double sigma = w.sd_e_s;
  const double* es = m_es.data() + w.start;
  m_inv.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) m_inv[static_cast<size_t>(i)] = mu + (mu - es[i]);  // errors.py order

  // Defaults: no candidate won → μ + sd_lim·σ; a flat window → μ (nothing can be told apart).
  w.z = w.z_inv = m_p.sd_lim;
  w.epsilon = w.epsilon_inv = w.flat ? mu : mu + m_p.sd_lim * sigma;
  if (!w.flat) {
    search_epsilon(es, n, mu, sigma, w.z, w.epsilon);
    if (m_p.inverse) search_epsilon(m_inv.data(), n, mu, sigma, w.z_inv, w.epsilon_inv);
  }

  // Scale gates (the regular errors decide for both sides, as in the reference).
  const double max_es = *std::max_element(es, es + n);
  const bool has_targets = !m_targets.y_test.empty();
  bool gate = !w.flat && max_es > m_p.min_error;
  if (gate && has_targets) {
    gate = sigma > m_p.target_gate * w.sd_values || max_es > m_p.target_gate * w.inter_range;
  }
  w.gate_open = gate;
  const double row_gate = has_targets ? m_p.target_gate * w.inter_range : -std::numeric_limits<double>::infinity();

  Side regular{es, w.epsilon, {}, {}, {}};
  Side inverse{m_inv.data(), w.epsilon_inv, {}, {}, {}};
  candidates(w, regular, gate, row_gate);
  // The inverse side is evaluated before this window's regular rows are marked (reference).
  candidates(w, inverse, gate && m_p.inverse, row_gate);
  prune(w, regular);
  prune(w, inverse);

  auto to_spans = [](const std::vector<Run>& runs, std::vector<TelemanomSpan>& out) {
    out.clear();
    for (const Run& r : runs) {
      if (r.size() >= 2) out.push_back({r.lo, r.hi});
    }
  };
  to_spans(regular.candidates, w.seqs_before_prune);
  to_spans(inverse.candidates, w.seqs_before_prune_inv);
  w.n_flagged_before_prune = total_size(regular.candidates);
  w.n_flagged_before_prune_inv = total_size(inverse.candidates);
  w.n_flagged_after_prune = total_size(regular.kept);
  w.n_flagged_after_prune_inv = total_size(inverse.kept);
  w.non_anom_max = regular.non_anom_max;
  w.non_anom_max_inv = inverse.non_anom_max;

  // Union of both sides' kept rows as maximal runs.
  m_union.clear();
  std::merge(regular.kept.begin(), regular.kept.end(), inverse.kept.begin(), inverse.kept.end(),
             std::back_inserter(m_union), [](const Run& a, const Run& b) { return a.lo < b.lo; });
  m_runs.clear();
  for (const Run& r : m_union) {
    if (!m_runs.empty() && r.lo <= m_runs.back().hi + 1) {
      m_runs.back().hi = std::max(m_runs.back().hi, r.hi);
    } else {
      m_runs.push_back(r);
    }
  }
  if (m_runs.empty()) return;

  // score_anomalies (algorithms.md §1.10), the reference's formula: the largest distance of
  // either side from its ε over the run, relative to μ + σ (> 0 for errors; for signed scores
  // σ, or 1 when that is 0 too, so the score is never NaN or inf).
  double denom = mu + sigma;
  if (!(denom > 0.0)) denom = sigma > 0.0 ? sigma : 1.0;
  for (const Run& r : m_runs) {
    const int64_t lo = std::max(r.lo, w.start);
    const int64_t hi = std::min(r.hi, w.end - 1);
    double worst = 0.0;
    for (int64_t row = lo; row <= hi; ++row) {
      const auto i = static_cast<size_t>(row - w.start);
      double d = std::fabs(es[i] - w.epsilon);
      if (m_p.inverse) d = std::max(d, std::fabs(m_inv[i] - w.epsilon_inv));
      worst = std::max(worst, d);
    }
    const TelemanomScore s{r.lo, r.hi, worst / denom};
    w.scores.push_back(s);
    all_scores.push_back(s);
    for (int64_t row = r.lo; row <= r.hi; ++row) m_marks[static_cast<size_t>(row)] = 1;
  }
}

}  // namespace

std::vector<double> ewm_mean(std::span<const double> x, double span) {
  if (!(std::isfinite(span) && span >= 1.0)) {
    throw Error("ewm_mean: span must be finite and >= 1, got " + num(span));
  }
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      throw Error("ewm_mean: x[" + std::to_string(i) + "] is " + num(x[i]) + "; a complete finite series is required");
    }
  }
  std::vector<double> out(x.size());
  if (x.empty()) return out;
  // pandas/_libs/window/aggregations.pyx `ewm` (adjust=True, no NaN): com = (span − 1)/2,
  // α = 1/(1 + com); `weighted` is num/den of the adjust=True recursion, `old_wt` is den − 1
  // decayed by (1 − α) each step; equal consecutive values leave `weighted` untouched.
  const double com = (span - 1.0) / 2.0;
  const double alpha = 1.0 / (1.0 + com);
  const double old_wt_factor = 1.0 - alpha;
  const double new_wt = 1.0;
  double weighted = x[0];
  double old_wt = 1.0;
  out[0] = weighted;
  for (size_t i = 1; i < x.size(); ++i) {
    const double cur = x[i];
    old_wt *= old_wt_factor;
    if (weighted != cur) {
      weighted = old_wt * weighted + new_wt * cur;
      weighted /= (old_wt + new_wt);
    }
    old_wt += new_wt;
    out[i] = weighted;
  }
  return out;
}

std::vector<double> telemanom_errors(std::span<const double> y_hat, std::span<const double> y_test,
                                     int64_t n_predictions) {
  if (n_predictions < 1) {
    throw Error("telemanom_errors: n_predictions must be >= 1, got " + std::to_string(n_predictions));
  }
  const auto cols = static_cast<size_t>(n_predictions);
  if (y_test.size() != y_hat.size() * cols) {
    throw ShapeError("telemanom_errors: y_test has " + std::to_string(y_test.size()) + " values, expected [" +
                     std::to_string(y_hat.size()) + ", " + std::to_string(n_predictions) +
                     "] = " + std::to_string(y_hat.size() * cols) + " (one row per y_hat value)");
  }
  std::vector<double> e(y_hat.size());
  for (size_t k = 0; k < y_hat.size(); ++k) e[k] = std::fabs(y_hat[k] - y_test[k * cols]);
  return e;
}

std::vector<double> telemanom_smooth(std::span<const double> errors, const TelemanomParams& params) {
  check_params(params);
  check_errors(errors, "telemanom_smooth");
  const int64_t span = smoothing_span(params);
  std::vector<double> e_s =
      span > 1 ? ewm_mean(errors, static_cast<double>(span)) : std::vector<double>(errors.begin(), errors.end());
  if (params.replace_warmup && params.l_s > 0) {
    // e_s[:l_s] = mean(e_s[:2·l_s]); slices shorter than asked for when N is small.
    const auto n = static_cast<int64_t>(e_s.size());
    const int64_t n_mean = std::min(n, 2 * params.l_s);
    const double m = score_stats(std::span<const double>(e_s.data(), static_cast<size_t>(n_mean))).mean;
    std::fill(e_s.begin(), e_s.begin() + std::min(n, params.l_s), m);
  }
  return e_s;
}

TelemanomResult telemanom_detect(std::span<const double> errors, const TelemanomParams& params,
                                 const TelemanomTargets& targets) {
  check_params(params);
  check_errors(errors, "telemanom_detect");
  const auto n = static_cast<int64_t>(errors.size());
  if (!targets.y_test.empty()) {
    if (targets.columns < 1) {
      throw Error("telemanom_detect: targets.columns must be >= 1 when targets are given, got " +
                  std::to_string(targets.columns));
    }
    if (static_cast<int64_t>(targets.y_test.size()) != n * targets.columns) {
      throw ShapeError("telemanom_detect: targets.y_test has " + std::to_string(targets.y_test.size()) +
                       " values, expected [" + std::to_string(n) + ", " + std::to_string(targets.columns) +
                       "] = " + std::to_string(n * targets.columns));
    }
    for (size_t i = 0; i < targets.y_test.size(); ++i) {
      if (!std::isfinite(targets.y_test[i])) {
        const auto cols = static_cast<size_t>(targets.columns);
        throw Error("telemanom_detect: targets.y_test[" + std::to_string(i / cols) + "][" + std::to_string(i % cols) +
                    "] is " + num(targets.y_test[i]) + "; targets must be finite");
      }
    }
  }

  TelemanomResult result;
  result.e_s = telemanom_smooth(errors, params);
  result.smoothing_span = smoothing_span(params);
  result.history = history_rows(params);
  result.num_to_ignore = resolve_num_to_ignore(params, n);
  const int64_t h = result.history;
  const int64_t bs = params.batch_size;
  const int64_t nti = result.num_to_ignore;

  // Window layout: (start, end, judge_start) per window.
  struct Layout {
    int64_t start, end, judge_start;
  };
  std::vector<Layout> layout;
  if (params.mode == TelemanomMode::Batch) {
    // process_batches: n_windows = trunc((N − h)/bs), 0 when N < h (the reference's
    // adjust_window_size loop always ends there); the last window runs to N. Each window judges
    // the rows after the previous window's end: the newest batch, and for the last window also
    // the N − h mod bs rows the reference never judges (algorithms.md §1.5).
    const int64_t n_windows = n >= h ? (n - h) / bs : 0;
    layout.reserve(static_cast<size_t>(n_windows + 1));
    int64_t prev_end = 0;
    for (int64_t i = 0; i <= n_windows; ++i) {
      const int64_t start = i * bs;
      const int64_t end = i == n_windows ? n : start + h;
      const int64_t judge = std::min(end, std::max(i == 0 ? nti : prev_end, nti));
      layout.push_back({start, end, judge});
      prev_end = end;
    }
  } else {
    const int64_t n_batches = (n - 1) / bs + 1;  // n >= 1
    layout.reserve(static_cast<size_t>(n_batches));
    for (int64_t k = 0; k < n_batches; ++k) {
      const int64_t end = std::min(n, (k + 1) * bs);
      layout.push_back({std::max<int64_t>(0, end - h), end, std::min(end, std::max(k * bs, nti))});
    }
  }

  std::vector<uint8_t> marks(static_cast<size_t>(n), 0);
  WindowRunner runner(result.e_s, params, targets, nti, marks);
  result.windows.resize(layout.size());
  for (size_t i = 0; i < layout.size(); ++i) {
    TelemanomWindow& w = result.windows[i];
    w.index = static_cast<int64_t>(i);
    w.start = layout[i].start;
    w.end = layout[i].end;
    w.judge_start = layout[i].judge_start;
    runner.run(w, result.scores);
  }

  // Flagged rows, runs, events (runs of >= 2 rows, algorithms.md §1.10).
  std::vector<Run> runs;
  for (int64_t row = 0; row < n; ++row) {
    if (marks[static_cast<size_t>(row)] == 0) continue;
    result.flagged.push_back(row);
    if (!runs.empty() && runs.back().hi == row - 1) {
      runs.back().hi = row;
    } else {
      runs.push_back({row, row});
    }
  }
  // Each score entry lies inside one final run (flags only grow); an event's score is the
  // largest entry inside it (the merge the reference's merge_scores meant to do).
  std::vector<double> run_score(runs.size(), 0.0);
  for (const TelemanomScore& s : result.scores) {
    const auto it =
        std::upper_bound(runs.begin(), runs.end(), s.start_idx, [](int64_t row, const Run& r) { return row < r.lo; });
    const auto idx = static_cast<size_t>(std::distance(runs.begin(), it)) - 1;
    run_score[idx] = std::max(run_score[idx], s.score);
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].size() < 2) continue;
    result.events.push_back({runs[i].lo, runs[i].hi, runs[i].lo + params.l_s, runs[i].hi + params.l_s, run_score[i]});
  }
  return result;
}

}  // namespace rnnad
