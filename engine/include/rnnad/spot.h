// SPOT and DSPOT extreme-value thresholds (Siffer, Fouque, Termier, Largouët, "Anomaly Detection in
// Streams with Extreme Value Theory", KDD 2017), with the corrected Generalized Pareto fit of
// libspot v2 (asiffer/libspot @ b096b2b3). Specification: ../shared/docs/algorithms.md §2;
// our choices and every difference from the references: docs/thresholds.md ("SPOT and DSPOT").
//
// One code path: `Spot` is the streaming object (calibrate once, then step per value); the batch
// form `run_spot` calibrates a `Spot` on the first values and steps it over the rest.
#pragma once

#include <cstddef>
#include <limits>
#include <span>
#include <vector>

namespace rnnad {

/// Which tails a `Spot` watches. `Lower` is exactly `Upper` applied to the negated data.
enum class SpotTails { Upper, Lower, Both };

/// What `Spot::calibrate` does when a tail has fewer than `SpotParams::min_peaks` peaks
/// (field case F22: tied or discrete scores leave no value above the initial threshold).
enum class SpotFewPeaks {
  Error,     ///< throw rnnad::Error naming the counts and parameters (default)
  Fallback,  ///< use the calibration extreme as the alarm threshold, flagged `fallback`, until
             ///< the stream has supplied `min_peaks` excesses; then fit as usual
};

/// Which candidate won a Generalized Pareto fit (largest log-likelihood, ties to the earlier one
/// in the order MethodOfMoments, Exponential, Grimshaw-left, Grimshaw-right).
enum class GpdEstimator {
  None,             ///< no fit (tail inactive, or in fallback)
  MethodOfMoments,  ///< γ = ½(1 − Ȳ²/Var), σ = ½Ȳ(1 + Ȳ²/Var)
  Exponential,      ///< γ = 0, σ = Ȳ (also the answer when all excesses are equal)
  Grimshaw,         ///< a root of Grimshaw's w(x) found by Brent's method on one of the two intervals
};

/// How `fit_gpd` looks for Grimshaw's stationary points (docs/thresholds.md ("SPOT and DSPOT"), "The fit").
enum class GpdRootSearch {
  /// Default. w(x) in a cancellation-free form, so its sign next to x = 0 is right; each interval
  /// scanned on a 16-cell geometric grid and Brent's method run on every sign change, so a root
  /// is missed only if two lie within one grid cell.
  Scan,
  /// libspot v2 as shipped: w = UV − 1 evaluated directly and Brent on each whole interval only.
  /// Next to x = 0, where the interval ends lie, that w is rounding noise (~1e-16), so libspot can
  /// miss the maximum-likelihood root (it does on two of the four reference cases); use this only
  /// to reproduce libspot's numbers.
  Libspot,
};

/// A fitted GPD(γ, σ) for excesses Y = X − t > 0: P(Y > y) = (1 + γy/σ)^(−1/γ), or e^(−y/σ) at γ = 0.
struct GpdFit {
  double gamma = 0.0;           ///< shape γ (dimensionless)
  double sigma = 0.0;           ///< scale σ, units of the excesses (0 only if all are 0; +inf if their sum overflows)
  double log_likelihood = 0.0;  ///< at (γ, σ); +inf when all excesses are 0 (point mass), −inf if σ = +inf
  GpdEstimator estimator = GpdEstimator::None;
};

/// Fits a GPD to `excesses` (values >= 0, in any units) by maximum likelihood with libspot v2's
/// candidates: method of moments, γ = 0 (σ = mean), and Grimshaw's stationary points x = γ/σ
/// found by Brent's method (tolerance 2e-8 on x) on (−1/Y_max + ε, −ε) and
/// (ε, 2(Ȳ − Y_min)/Y_min²), ε = min(2e-8, 0.5/Y_max), searched as `search` says. A candidate
/// counts only if its parameters and log-likelihood are finite; the largest log-likelihood wins.
/// All-equal excesses give γ = 0, σ = their value. Never returns NaN. Allocates nothing.
/// Throws rnnad::Error if `excesses` is empty or holds a negative or non-finite value (the
/// message names `excesses` and the index).
GpdFit fit_gpd(std::span<const double> excesses, GpdRootSearch search = GpdRootSearch::Scan);

/// GPD log-likelihood of `excesses` at (gamma, sigma): −N ln σ − (1 + 1/γ) Σ ln(1 + γY/σ), or
/// −N ln σ − ΣY/σ at γ = 0 (the correct sign; spot.py's is wrong, algorithms.md §2.7).
/// Returns −inf outside the support (σ <= 0 or some 1 + γY/σ <= 0). Allocates nothing.
double gpd_log_likelihood(std::span<const double> excesses, double gamma, double sigma);

/// SPOT's alarm threshold z_q = t + (σ/γ)((q·n/N_t)^(−γ) − 1), or t − σ ln(q·n/N_t) at γ = 0
/// (Siffer 2017, eq. for z_q), in the units of t. `n` = observations, `n_peaks` = N_t >= 1.
double spot_quantile(double t, const GpdFit& fit, double q, double n, double n_peaks);

/// Settings of SPOT/DSPOT, with Siffer's names. Validated by `Spot`'s constructor.
struct SpotParams {
  /// Risk q: the target probability of exceeding the alarm threshold, per tail. Must lie in
  /// (0, 1 − level). Default 1e-4 (spot.py's default; the reference runs use 1e-3).
  double q = 1e-4;
  /// Initial-threshold level in [0, 1): t = sort(calibration)[trunc(level · n)] (upper tail; the
  /// lower tail uses the mirror image). Default 0.98 (Siffer).
  double level = 0.98;
  /// DSPOT drift window: 0 = plain SPOT; d > 0 = DSPOT on residuals x − mean(last d normal values).
  std::size_t depth = 0;
  /// Tails to watch. Default Upper (anomaly scores: higher = more anomalous).
  SpotTails tails = SpotTails::Upper;
  /// Capacity of each tail's excess ring buffer (older excesses are forgotten; N_t keeps
  /// counting). Default 500, libspot's Python-binding default and the value of the reference runs.
  /// Must be >= min_peaks.
  std::size_t max_excess = 500;
  /// Fewest calibration peaks accepted for a fit (>= 1). Default 10.
  std::size_t min_peaks = 10;
  /// What to do with fewer peaks than min_peaks. Default Error.
  SpotFewPeaks few_peaks = SpotFewPeaks::Error;
  /// Root search of the GPD fit. Default Scan (true maximum likelihood); Libspot reproduces
  /// libspot v2's numbers, including its missed maxima.
  GpdRootSearch root_search = GpdRootSearch::Scan;
};

/// The state of one tail. Units: t and z are in data units for SPOT and in residual units
/// (x − M) for DSPOT; both are the actual thresholds (the lower tail's lie below the data).
struct SpotTailState {
  bool active = false;         ///< this tail is watched
  double t = 0.0;              ///< initial (excess) threshold
  double z = 0.0;              ///< alarm threshold (DSPOT: add the drift M for data units)
  GpdFit fit;                  ///< GPD of the excesses beyond t (estimator None while in fallback)
  std::size_t n = 0;           ///< observations counted (calibration + non-alarm stream values)
  std::size_t n_peaks = 0;     ///< N_t: excesses ever counted (calibration + stream)
  std::size_t peaks_held = 0;  ///< excesses in the ring buffer (<= max_excess)
  bool fallback = false;       ///< z is the calibration extreme, not a GPD quantile (F22)
};

/// The outcome of one `Spot::step`. Thresholds are those in force after the step, in data units
/// (DSPOT: z + M with the M the step used); a tail that is not watched reports ±infinity.
struct SpotStep {
  double threshold = std::numeric_limits<double>::infinity();         ///< upper alarm threshold
  double lower_threshold = -std::numeric_limits<double>::infinity();  ///< lower alarm threshold
  bool is_alarm = false;   ///< x > upper threshold or x < lower threshold (strict); model unchanged
  bool is_excess = false;  ///< not an alarm and x − t >= 0 in a tail: stored, GPD refitted (not in fallback)
  int side = 0;            ///< +1 upper / −1 lower tail for an alarm or excess, else 0
  bool fallback = false;   ///< some watched tail is in fallback mode
};

/// Everything a calibrated `Spot` holds between steps, for checkpoints (rnnad/stream_pool.h):
/// restoring it into a `Spot` with the same params continues the stream bit for bit.
/// Per tail k (0 upper, 1 lower): the public state, t and z in internal coordinates
/// (sign · (x − M)), the excess ring (max_excess values, or empty for a tail not watched) and
/// its next slot; the DSPOT window (depth values, ring) and its oldest slot; steps taken.
struct SpotSnapshot {
  bool calibrated = false;
  SpotTailState tail[2];
  double t[2] = {0.0, 0.0};
  double z[2] = {0.0, 0.0};
  std::vector<double> ring[2];
  std::size_t ring_next[2] = {0, 0};
  std::vector<double> window;
  std::size_t window_next = 0;
  std::size_t steps = 0;
};

/// Streaming SPOT/DSPOT detector. Calibrate once, then `step` per value. `step` allocates
/// nothing (buffers are sized in `calibrate`); an excess costs a refit (about 40–70 passes over
/// the peaks held), any other value O(depth). One object per stream; not thread-safe.
class Spot {
 public:
  /// Validates `params`; throws rnnad::Error naming the parameter (q, level, max_excess,
  /// min_peaks) when it is out of range.
  explicit Spot(const SpotParams& params = {});

  /// Calibrates on `calibration` (finite values; SPOT: at least 1, DSPOT: at least depth + 1).
  /// Per tail: t = order statistic, peaks = values strictly beyond t, GPD fit, z = z_q.
  /// Throws rnnad::Error when the data are too short or not finite, or, with
  /// few_peaks == Error, when a tail has fewer than min_peaks peaks (field case F22), e.g.
  /// "SPOT: 0 peaks above initial threshold 1.0 (from 1000 calibration scores); need >= 10. ...".
  /// May be called again to start over.
  void calibrate(std::span<const double> calibration);

  /// Processes one value x (data units). Alarms (x beyond a threshold, strict) change nothing;
  /// otherwise n grows, an excess (x − t >= 0, inclusive, as libspot) is stored and the tail
  /// refitted, and DSPOT's window slides. Throws rnnad::Error if not calibrated or x is not finite.
  SpotStep step(double x);

  /// A copy of the whole state (allocates the rings' copies).
  SpotSnapshot snapshot() const;
  /// Replaces the whole state with `s` (from snapshot() of a Spot with the same params). Throws
  /// rnnad::Error naming the field when the sizes do not fit the params (ring not max_excess
  /// values, window not depth values, a slot or peaks_held out of range) or a value is not finite.
  void restore(const SpotSnapshot& s);

  bool calibrated() const { return m_calibrated; }
  const SpotParams& params() const { return m_params; }
  /// State of the upper / lower tail (`active` false when not watched).
  const SpotTailState& upper() const { return m_tail[0].state; }
  const SpotTailState& lower() const { return m_tail[1].state; }
  /// The drift M = mean of the window (DSPOT), the value the next step will subtract; 0 for SPOT.
  double drift() const;
  /// Upper / lower alarm thresholds in force now, in data units (±inf for a tail not watched).
  double threshold() const;
  double lower_threshold() const;

 private:
  struct Tail {
    SpotTailState state;
    double sign = 1.0;  // internal coordinates are sign · (x − M): every tail is "upper"
    double t = 0.0;     // t and z in internal coordinates (state holds sign · these)
    double z = 0.0;
    std::vector<double> ring;   // excesses, capacity max_excess, storage order as libspot's ring
    std::size_t ring_next = 0;  // next slot to write
  };
  void push_excess(Tail& tail, double excess);
  void refit(Tail& tail);
  double tail_threshold(const Tail& tail, double drift) const;

  SpotParams m_params;
  bool m_calibrated = false;
  Tail m_tail[2];                 // [0] upper, [1] lower
  std::vector<double> m_window;   // DSPOT: last `depth` normal values, ring in arrival order
  std::size_t m_window_next = 0;  // oldest value's slot
  std::size_t m_steps = 0;        // stream values seen (for messages)
};

/// Result of `run_spot`. Stream index i refers to series[n_calibration + i].
struct SpotRun {
  SpotTailState upper_init, lower_init;    ///< tails right after calibration
  SpotTailState upper_final, lower_final;  ///< tails after the last step
  std::vector<double> threshold;           ///< per stream step: upper threshold after the step
  std::vector<double> lower_threshold;     ///< per stream step: lower threshold after the step
  std::vector<std::size_t> alarms;         ///< stream indices of alarms, ascending
  std::size_t n_excess_steps = 0;          ///< steps that were excesses (model refitted)
};

/// Batch SPOT/DSPOT: calibrates a `Spot` on series[0, n_calibration) and steps it over the rest.
/// Throws rnnad::Error when n_calibration > series.size(), plus everything `Spot` throws.
SpotRun run_spot(std::span<const double> series, std::size_t n_calibration, const SpotParams& params);

}  // namespace rnnad
