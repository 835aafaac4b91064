// SPOT / DSPOT (Siffer et al., KDD 2017) with libspot v2's corrected GPD fit.
// Specification: ../shared/docs/algorithms.md §2; design notes: docs/thresholds.md ("SPOT and DSPOT").
#include "rnnad/spot.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <string>

#include "rnnad/error.h"

namespace rnnad {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Brent's method, as libspot v2 runs it: tolerance 2e-8 on x (per-step tolerance
// 2·2e-8·|b| + ½·2e-8) and at most 200 iterations.
constexpr double kBrentTol = 2e-8;
constexpr int kBrentMaxIterations = 200;
// GpdRootSearch::Scan: geometric grid cells per interval (per half of the left interval: 8).
constexpr int kScanCells = 16;

// Shortest round-trip decimal form, with ".0" added to integral values ("1.0", as Python prints).
std::string format_number(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, res.ptr);
  if (s.find_first_not_of("-0123456789") == std::string::npos) s += ".0";
  return s;
}

double to_double(std::size_t v) { return static_cast<double>(v); }

// Root of f in [lo, hi] by Brent's method (inverse quadratic interpolation, secant, bisection;
// the textbook "zbrent" form). Returns false when f(lo) and f(hi) have the same strict sign, when
// f is not finite at a point it needs, or after kBrentMaxIterations.
template <class F>
bool brent_root(const F& f, double lo, double hi, double& root) {
  double a = lo;
  double b = hi;
  double fa = f(a);
  double fb = f(b);
  if (!std::isfinite(fa) || !std::isfinite(fb)) return false;
  if ((fa > 0.0 && fb > 0.0) || (fa < 0.0 && fb < 0.0)) return false;
  double c = b;
  double fc = fb;
  double step = 0.0;       // last step taken
  double step_prev = 0.0;  // the step before it
  for (int iter = 0; iter < kBrentMaxIterations; ++iter) {
    if ((fb > 0.0 && fc > 0.0) || (fb < 0.0 && fc < 0.0)) {
      // b and c on the same side: the bracket is [a, b]; restart the step history.
      c = a;
      fc = fa;
      step = step_prev = b - a;
    }
    if (std::abs(fc) < std::abs(fb)) {  // keep b the best estimate
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const double tol = 2.0 * kBrentTol * std::abs(b) + 0.5 * kBrentTol;
    const double half = 0.5 * (c - b);
    if (std::abs(half) <= tol || fb == 0.0) {
      root = b;
      return true;
    }
    if (std::abs(step_prev) >= tol && std::abs(fa) > std::abs(fb)) {
      const double s = fb / fa;
      double p;
      double q;
      if (a == c) {  // two points: secant
        p = 2.0 * half * s;
        q = 1.0 - s;
      } else {  // three points: inverse quadratic interpolation
        const double qa = fa / fc;
        const double rb = fb / fc;
        p = s * (2.0 * half * qa * (qa - rb) - (b - a) * (rb - 1.0));
        q = (qa - 1.0) * (rb - 1.0) * (s - 1.0);
      }
      if (p > 0.0) q = -q;
      p = std::abs(p);
      const double limit = std::min(3.0 * half * q - std::abs(tol * q), std::abs(step_prev * q));
      if (2.0 * p < limit) {  // interpolation accepted
        step_prev = step;
        step = p / q;
      } else {  // too slow: bisect
        step = half;
        step_prev = step;
      }
    } else {
      step = half;
      step_prev = step;
    }
    a = b;
    fa = fb;
    b += std::abs(step) > tol ? step : (half >= 0.0 ? tol : -tol);
    fb = f(b);
    if (!std::isfinite(fb)) return false;
  }
  return false;
}

// Grimshaw's w(x) = U(x)V(x) − 1 with U = 1 + mean ln(1 + xY), V = mean 1/(1 + xY), written as
// A + B + AB with A = U − 1 and B = V − 1 = mean(−xY/(1 + xY)) so that it keeps its sign near
// x = 0, where w ~ x²(Var − Ȳ²)/2 is far below the rounding error of "UV − 1".
double grimshaw_w(std::span<const double> y, double x) {
  double sum_a = 0.0;
  double sum_b = 0.0;
  for (const double v : y) {
    const double xy = x * v;
    sum_a += std::log1p(xy);
    sum_b -= xy / (1.0 + xy);
  }
  const double n = to_double(y.size());
  const double a = sum_a / n;
  const double b = sum_b / n;
  return a + b + a * b;
}

// The same w as libspot evaluates it: (Σ 1/s / N)(1 + Σ ln s / N) − 1 with s = 1 + xY.
double grimshaw_w_libspot(std::span<const double> y, double x) {
  double u = 0.0;
  double v = 0.0;
  for (const double e : y) {
    const double s = 1.0 + x * e;
    u += 1.0 / s;
    v += std::log(s);
  }
  const double n = to_double(y.size());
  return (u / n) * (1.0 + v / n) - 1.0;
}

// Brent on every sign change of f over the ascending grid `pts`; calls found(root) for each.
template <class F, class G, std::size_t K>
void roots_on_grid(const F& f, const std::array<double, K>& pts, const G& found) {
  double f_prev = f(pts[0]);
  for (std::size_t k = 1; k < K; ++k) {
    const double f_next = f(pts[k]);
    const bool same_sign = (f_prev > 0.0 && f_next > 0.0) || (f_prev < 0.0 && f_next < 0.0);
    double root = 0.0;
    if (std::isfinite(f_prev) && std::isfinite(f_next) && !same_sign && brent_root(f, pts[k - 1], pts[k], root)) {
      found(root);
    }
    f_prev = f_next;
  }
}

// Checks for the public fit_gpd: values >= 0 and finite.
void check_excesses(std::span<const double> excesses) {
  if (excesses.empty()) throw Error("fit_gpd: excesses is empty; need at least one excess");
  for (std::size_t i = 0; i < excesses.size(); ++i) {
    if (!std::isfinite(excesses[i]) || excesses[i] < 0.0) {
      throw Error("fit_gpd: excesses[" + std::to_string(i) + "] = " + format_number(excesses[i]) +
                  " is not a finite value >= 0");
    }
  }
}

// The fit itself (inputs already checked: non-empty, finite, >= 0). Allocates nothing.
GpdFit fit_gpd_checked(std::span<const double> y, GpdRootSearch search) {
  const double n = to_double(y.size());
  double sum = 0.0;
  double lo = y[0];
  double hi = y[0];
  for (const double v : y) {
    sum += v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const double mean = sum / n;
  if (lo == hi) {
    // All excesses equal: no spread to fit; the exponential with σ = the common value (libspot
    // reaches the same answer through its γ = 0 candidate). σ = 0 (all zero) is a point mass.
    GpdFit fit{0.0, mean, kInf, GpdEstimator::Exponential};
    if (mean > 0.0) fit.log_likelihood = -n * std::log(mean) - sum / mean;
    return fit;
  }
  double var = 0.0;
  for (const double v : y) var += (v - mean) * (v - mean);
  var /= n;

  GpdFit best;
  bool have = false;
  const auto consider = [&](double gamma, double sigma, GpdEstimator estimator) {
    if (!std::isfinite(gamma) || !std::isfinite(sigma) || !(sigma > 0.0)) return;
    const double ll = gpd_log_likelihood(y, gamma, sigma);
    if (!std::isfinite(ll)) return;
    if (!have || ll > best.log_likelihood) {
      best = GpdFit{gamma, sigma, ll, estimator};
      have = true;
    }
  };
  // Grimshaw: a stationary point x = γ/σ gives γ = mean ln(1 + xY), σ = γ/x.
  const auto consider_root = [&](double x) {
    if (x == 0.0) return;  // the exponential candidate, already considered
    double s = 0.0;
    for (const double v : y) s += std::log1p(x * v);
    const double gamma = s / n;
    consider(gamma, gamma / x, GpdEstimator::Grimshaw);
  };

  // Candidate order fixes ties (the earlier wins): moments, exponential, left root, right root.
  if (var > 0.0) {
    const double r = mean * mean / var;
    consider(0.5 * (1.0 - r), 0.5 * mean * (1.0 + r), GpdEstimator::MethodOfMoments);
  }
  consider(0.0, mean, GpdEstimator::Exponential);

  const double eps = std::min(kBrentTol, 0.5 / hi);
  const double left_lo = -1.0 / hi + eps;
  // Grimshaw's bound on positive roots; infinite when the smallest excess is 0 (then no right
  // candidate, as in libspot, whose w is NaN there).
  const double right_hi = 2.0 * (mean - lo) / (lo * lo);
  const bool left_ok = left_lo < -eps;
  const bool right_ok = std::isfinite(right_hi) && right_hi > eps;

  if (search == GpdRootSearch::Libspot) {
    const auto w = [y](double x) { return grimshaw_w_libspot(y, x); };
    double root = 0.0;
    if (left_ok && brent_root(w, left_lo, -eps, root)) consider_root(root);
    if (right_ok && brent_root(w, eps, right_hi, root)) consider_root(root);
    return best;
  }

  const auto w = [y](double x) { return grimshaw_w(y, x); };
  if (left_ok) {
    // Left interval (−L + ε, −ε), L = 1/Y_max: geometric steps away from each end, meeting at −L/2.
    constexpr int half = kScanCells / 2;
    const double mid = 0.5 / hi;
    const double ratio = mid / eps;
    std::array<double, kScanCells + 1> pts{};
    for (int k = 0; k < half; ++k) {
      const double d = eps * std::pow(ratio, static_cast<double>(k) / half);
      pts[static_cast<std::size_t>(k)] = -1.0 / hi + d;    // from the pole
      pts[static_cast<std::size_t>(kScanCells - k)] = -d;  // from zero
    }
    pts[0] = left_lo;
    pts[kScanCells] = -eps;
    pts[half] = -mid;
    roots_on_grid(w, pts, consider_root);
  }
  if (right_ok) {
    // Right interval (ε, c): geometric steps (c/ε may be 1e20).
    std::array<double, kScanCells + 1> pts{};
    const double ratio = right_hi / eps;
    for (int k = 0; k <= kScanCells; ++k) {
      pts[static_cast<std::size_t>(k)] = eps * std::pow(ratio, static_cast<double>(k) / kScanCells);
    }
    pts[0] = eps;
    pts[kScanCells] = right_hi;
    roots_on_grid(w, pts, consider_root);
  }
  // The exponential candidate is finite unless the excesses' sum overflows (values near the double
  // range): then report that exponential fit as it is (σ = +inf, so z = +inf), never NaN.
  if (!have) return GpdFit{0.0, mean, -kInf, GpdEstimator::Exponential};
  return best;
}

// Order statistic sort(values)[trunc(level · n)] (Siffer's t), on a scratch copy.
double order_statistic(std::vector<double> values, double level) {
  const std::size_t n = values.size();
  std::size_t k = static_cast<std::size_t>(level * to_double(n));
  if (k >= n) k = n - 1;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

}  // namespace

double gpd_log_likelihood(std::span<const double> excesses, double gamma, double sigma) {
  if (!(sigma > 0.0) || !std::isfinite(sigma) || !std::isfinite(gamma)) return -kInf;
  const double n = to_double(excesses.size());
  if (gamma == 0.0) {
    double sum = 0.0;
    for (const double v : excesses) sum += v;
    return -n * std::log(sigma) - sum / sigma;
  }
  const double x = gamma / sigma;
  double sum_log = 0.0;
  for (const double v : excesses) {
    const double xy = x * v;
    if (!(xy > -1.0)) return -kInf;  // outside the support
    sum_log += std::log1p(xy);
  }
  return -n * std::log(sigma) - (1.0 + 1.0 / gamma) * sum_log;
}

GpdFit fit_gpd(std::span<const double> excesses, GpdRootSearch search) {
  check_excesses(excesses);
  return fit_gpd_checked(excesses, search);
}

double spot_quantile(double t, const GpdFit& fit, double q, double n, double n_peaks) {
  const double log_r = std::log(q * n / n_peaks);
  if (fit.gamma == 0.0) return t - fit.sigma * log_r;
  // (σ/γ)(r^−γ − 1) with expm1 so that small |γ| keeps its accuracy.
  return t + fit.sigma * std::expm1(-fit.gamma * log_r) / fit.gamma;
}

Spot::Spot(const SpotParams& params) : m_params(params) {
  const SpotParams& p = m_params;
  if (!(p.level >= 0.0 && p.level < 1.0)) {
    throw Error("SPOT: level = " + format_number(p.level) + " must lie in [0, 1)");
  }
  if (!(p.q > 0.0 && p.q < 1.0 - p.level)) {
    throw Error("SPOT: q = " + format_number(p.q) + " must lie in (0, 1 - level) = (0, " +
                format_number(1.0 - p.level) + ")");
  }
  if (p.min_peaks < 1) throw Error("SPOT: min_peaks = 0; need min_peaks >= 1");
  if (p.max_excess < p.min_peaks) {
    throw Error("SPOT: max_excess = " + std::to_string(p.max_excess) +
                " must be >= min_peaks = " + std::to_string(p.min_peaks));
  }
  m_tail[0].sign = 1.0;
  m_tail[1].sign = -1.0;
}

double Spot::drift() const {
  if (m_params.depth == 0 || m_window.empty()) return 0.0;
  // Oldest to newest, then divide: the order of the reference runs.
  const std::size_t d = m_window.size();
  double sum = 0.0;
  for (std::size_t i = 0; i < d; ++i) sum += m_window[(m_window_next + i) % d];
  return sum / to_double(d);
}

double Spot::tail_threshold(const Tail& tail, double drift) const {
  if (!tail.state.active) return tail.sign * kInf;
  return drift + tail.sign * tail.z;
}

double Spot::threshold() const { return tail_threshold(m_tail[0], drift()); }
double Spot::lower_threshold() const { return tail_threshold(m_tail[1], drift()); }

void Spot::push_excess(Tail& tail, double excess) {
  tail.ring[tail.ring_next] = excess;
  tail.ring_next = (tail.ring_next + 1) % tail.ring.size();
  tail.state.peaks_held = std::min(tail.state.peaks_held + 1, tail.ring.size());
  ++tail.state.n_peaks;
}

void Spot::refit(Tail& tail) {
  SpotTailState& s = tail.state;
  s.fit = fit_gpd_checked(std::span<const double>(tail.ring.data(), s.peaks_held), m_params.root_search);
  tail.z = spot_quantile(tail.t, s.fit, m_params.q, to_double(s.n), to_double(s.n_peaks));
  s.z = tail.sign * tail.z;
  s.fallback = false;
}

void Spot::calibrate(std::span<const double> calibration) {
  const SpotParams& p = m_params;
  const char* name = p.depth > 0 ? "DSPOT" : "SPOT";
  const std::size_t size = calibration.size();
  if (size < p.depth + 1) {
    throw Error(std::string(name) + ": calibration has " + std::to_string(size) +
                " values; need at least depth + 1 = " + std::to_string(p.depth + 1));
  }
  for (std::size_t i = 0; i < size; ++i) {
    if (!std::isfinite(calibration[i])) {
      throw Error(std::string(name) + ": calibration[" + std::to_string(i) + "] = " + format_number(calibration[i]) +
                  " is not finite");
    }
  }
  m_calibrated = false;
  m_steps = 0;

  // The values the tails see: the data (SPOT) or the residuals x[j+d] − mean(x[j..j+d−1])
  // (DSPOT; the mean summed left to right, then divided).
  const std::size_t n = size - p.depth;
  std::vector<double> values(n);
  if (p.depth == 0) {
    std::copy(calibration.begin(), calibration.end(), values.begin());
  } else {
    const double d = to_double(p.depth);
    for (std::size_t j = 0; j < n; ++j) {
      double sum = 0.0;
      for (std::size_t i = j; i < j + p.depth; ++i) sum += calibration[i];
      values[j] = calibration[j + p.depth] - sum / d;
      if (!std::isfinite(values[j])) {
        throw Error("DSPOT: calibration residual " + std::to_string(j) + " overflows");
      }
    }
  }

  const bool watch[2] = {p.tails != SpotTails::Lower, p.tails != SpotTails::Upper};
  std::vector<double> y(n);
  for (int k = 0; k < 2; ++k) {
    Tail& tail = m_tail[k];
    tail.state = SpotTailState{};
    tail.ring.clear();
    tail.ring_next = 0;
    tail.t = tail.z = 0.0;
    if (!watch[k]) continue;
    SpotTailState& s = tail.state;
    s.active = true;
    for (std::size_t i = 0; i < n; ++i) y[i] = tail.sign * values[i];
    tail.t = order_statistic(y, p.level);
    s.t = tail.sign * tail.t;
    s.n = n;
    tail.ring.assign(p.max_excess, 0.0);
    double extreme = y[0];
    for (const double v : y) {
      extreme = std::max(extreme, v);
      if (v > tail.t) push_excess(tail, v - tail.t);  // calibration peaks: strictly beyond t
    }
    if (s.n_peaks >= p.min_peaks) {
      refit(tail);
      continue;
    }
    if (p.few_peaks == SpotFewPeaks::Error) {
      throw Error(std::string(name) + ": " + std::to_string(s.n_peaks) + " peaks " + (k == 0 ? "above" : "below") +
                  " initial threshold " + format_number(s.t) + " (from " + std::to_string(n) + " calibration " +
                  (p.depth > 0 ? "residuals" : "scores") + "); need >= " + std::to_string(p.min_peaks) +
                  ". Use more varied calibration data or a lower init level. (level = " + format_number(p.level) +
                  ", min_peaks = " + std::to_string(p.min_peaks) +
                  "; few_peaks = Fallback gives a flagged fallback threshold instead)");
    }
    // Fallback (F22): the calibration extreme, so no calibration value would have alarmed; the
    // GPD takes over once the stream has brought min_peaks excesses.
    s.fallback = true;
    s.fit = GpdFit{};
    tail.z = extreme;
    s.z = tail.sign * tail.z;
  }

  m_window.assign(calibration.end() - static_cast<std::ptrdiff_t>(p.depth), calibration.end());
  m_window_next = 0;
  m_calibrated = true;
}

SpotStep Spot::step(double x) {
  const char* name = m_params.depth > 0 ? "DSPOT" : "SPOT";
  if (!m_calibrated) throw Error(std::string(name) + ": step() called before calibrate()");
  if (!std::isfinite(x)) {
    throw Error(std::string(name) + ": x = " + format_number(x) + " at stream step " + std::to_string(m_steps) +
                " is not finite");
  }
  const double m = drift();
  const double v = x - m;
  SpotStep r;
  const bool alarm_up = m_tail[0].state.active && v > m_tail[0].z;
  const bool alarm_down = m_tail[1].state.active && -v > m_tail[1].z;
  if (alarm_up || alarm_down) {
    // discard_anomalies: an alarm updates nothing (n, peaks, window).
    r.is_alarm = true;
    r.side = alarm_up ? 1 : -1;
  } else {
    for (int k = 0; k < 2; ++k) {
      Tail& tail = m_tail[k];
      SpotTailState& s = tail.state;
      if (!s.active) continue;
      ++s.n;
      const double excess = tail.sign * v - tail.t;
      if (!(excess >= 0.0)) continue;  // inclusive, as libspot's stream test
      if (!std::isfinite(excess)) {
        throw Error(std::string(name) + ": excess at stream step " + std::to_string(m_steps) + " overflows");
      }
      push_excess(tail, excess);
      if (!s.fallback || s.peaks_held >= m_params.min_peaks) refit(tail);
      if (!r.is_excess) r.side = k == 0 ? 1 : -1;
      r.is_excess = true;
    }
    if (!m_window.empty()) {
      m_window[m_window_next] = x;  // replaces the oldest value
      m_window_next = (m_window_next + 1) % m_window.size();
    }
  }
  r.threshold = tail_threshold(m_tail[0], m);
  r.lower_threshold = tail_threshold(m_tail[1], m);
  r.fallback = m_tail[0].state.fallback || m_tail[1].state.fallback;
  ++m_steps;
  return r;
}

SpotSnapshot Spot::snapshot() const {
  SpotSnapshot s;
  s.calibrated = m_calibrated;
  for (int k = 0; k < 2; ++k) {
    s.tail[k] = m_tail[k].state;
    s.t[k] = m_tail[k].t;
    s.z[k] = m_tail[k].z;
    s.ring[k] = m_tail[k].ring;
    s.ring_next[k] = m_tail[k].ring_next;
  }
  s.window = m_window;
  s.window_next = m_window_next;
  s.steps = m_steps;
  return s;
}

void Spot::restore(const SpotSnapshot& s) {
  auto bad = [](const std::string& what) { throw Error("SPOT restore: " + what); };
  if (s.calibrated) {
    for (int k = 0; k < 2; ++k) {
      const std::string tail = k == 0 ? "upper" : "lower";
      const bool watched = k == 0 ? m_params.tails != SpotTails::Lower : m_params.tails != SpotTails::Upper;
      if (s.tail[k].active != watched) bad(tail + " tail: active does not match the params' tails");
      if (!watched) continue;
      if (s.ring[k].size() != m_params.max_excess) bad(tail + " tail: ring holds " + std::to_string(s.ring[k].size()) +
                                                       " values, max_excess is " + std::to_string(m_params.max_excess));
      if (s.ring_next[k] >= s.ring[k].size() || s.tail[k].peaks_held > s.ring[k].size())
        bad(tail + " tail: ring slot or peaks_held out of range");
      if (!std::isfinite(s.t[k]) || !std::isfinite(s.z[k])) bad(tail + " tail: t or z not finite");
      for (double v : s.ring[k])
        if (!(v >= 0.0) || !std::isfinite(v)) bad(tail + " tail: an excess is negative or not finite");
    }
    if (s.window.size() != m_params.depth) bad("window holds " + std::to_string(s.window.size()) + " values, depth is " +
                                               std::to_string(m_params.depth));
    if (!s.window.empty() && s.window_next >= s.window.size()) bad("window slot out of range");
    for (double v : s.window)
      if (!std::isfinite(v)) bad("a window value is not finite");
  }
  m_calibrated = s.calibrated;
  for (int k = 0; k < 2; ++k) {
    m_tail[k].state = s.tail[k];
    m_tail[k].t = s.t[k];
    m_tail[k].z = s.z[k];
    m_tail[k].ring = s.ring[k];
    m_tail[k].ring_next = s.ring_next[k];
  }
  m_window = s.window;
  m_window_next = s.window_next;
  m_steps = s.steps;
}

SpotRun run_spot(std::span<const double> series, std::size_t n_calibration, const SpotParams& params) {
  if (n_calibration > series.size()) {
    throw Error("SPOT: n_calibration = " + std::to_string(n_calibration) + " exceeds the series length " +
                std::to_string(series.size()));
  }
  Spot spot(params);
  spot.calibrate(series.first(n_calibration));
  SpotRun run;
  run.upper_init = spot.upper();
  run.lower_init = spot.lower();
  const std::size_t steps = series.size() - n_calibration;
  run.threshold.resize(steps);
  run.lower_threshold.resize(steps);
  for (std::size_t i = 0; i < steps; ++i) {
    const SpotStep s = spot.step(series[n_calibration + i]);
    run.threshold[i] = s.threshold;
    run.lower_threshold[i] = s.lower_threshold;
    if (s.is_alarm) run.alarms.push_back(i);
    if (s.is_excess) ++run.n_excess_steps;
  }
  run.upper_final = spot.upper();
  run.lower_final = spot.lower();
  return run;
}

}  // namespace rnnad
