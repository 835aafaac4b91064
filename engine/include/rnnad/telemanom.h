// Telemanom's nonparametric dynamic threshold (NDT): Hundman, Constantinou, Laporte, Colwell,
// Soderstrom, "Detecting Spacecraft Anomalies Using LSTMs and Nonparametric Dynamic
// Thresholding", KDD 2018; reference code khundman/telemanom @ 2e6c5b6c (telemanom/errors.py).
// Specification: ../shared/docs/algorithms.md §1; our description, defaults and every intended
// difference from the reference: docs/thresholds.md, "Telemanom dynamic threshold (NDT)".
//
// Index conventions: an error series has one row per error-stream step k (Telemanom's y_test
// row k). All indices below are 0-based error-stream rows unless a name says otherwise; ranges
// written [a, b) are half-open, "inclusive" pairs contain both ends. Row k refers to position
// k + l_s of the original series (Telemanom's "+l_s shift", reported in TelemanomEvent).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace rnnad {

/// How the error windows are laid out over the series (docs/thresholds.md).
enum class TelemanomMode {
  /// Telemanom's own schedule (`Errors.process_batches`): window i = rows [i·batch_size,
  /// i·batch_size + h), the last one extended to the end of the series; window 0 judges rows
  /// [num_to_ignore, h), every later window only the rows no earlier window judged (its newest
  /// batch; the last window also the remainder that the reference never judges). A point above ε
  /// anywhere in the window pulls its ±error_buffer neighbours in, but only judged rows are kept.
  /// Reproduces the reference's numbers.
  Batch,
  /// Streaming schedule (field case F30): batches of batch_size rows arrive from row 0 on; batch
  /// [k·batch_size, min((k+1)·batch_size, N)) is judged against the history of the last h rows
  /// ending with it (shorter while fewer rows exist). Each row is judged once, when it is new;
  /// a flagged row pulls in ±error_buffer neighbours on both sides, across batch edges (earlier
  /// batches and rows still to come), and flags from all batches accumulate into one set.
  Sliding,
};

/// Parameters, with the names and defaults of Telemanom's config.yaml and errors.py.
/// Validated by every function that takes them (rnnad::Error naming the parameter); integer
/// parameters (and batch_size·window_size) are at most 2^53.
struct TelemanomParams {
  /// Input window length of the forecaster (steps). Sets the warm-up overwrite, the default
  /// num_to_ignore and the +l_s shift of events. Use 0 for a series that is not Telemanom's
  /// y_test (no warm-up overwrite, num_to_ignore 0, no shift). >= 0. Default 250.
  int64_t l_s = 250;
  /// Rows per batch: the stride of the windows and the size of the newest batch. >= 1. Default 70.
  int64_t batch_size = 70;
  /// Batches per error window: h = batch_size·window_size rows (2100) unless `history` is set.
  /// Also enters the smoothing span. >= 1. Default 30.
  int64_t window_size = 30;
  /// EWMA span = trunc(batch_size·window_size·smoothing_perc) (105 with the defaults). A span <= 1
  /// (e.g. smoothing_perc = 0) means no smoothing: e_s = errors. Finite, >= 0. Default 0.05.
  double smoothing_perc = 0.05;
  /// Rows pulled in on each side of a flagged row when flagging (the ε search's objective uses
  /// error_buffer − 1, as the reference does). >= 0. Default 100.
  int64_t error_buffer = 100;
  /// Minimum relative drop between consecutive sorted sequence maxima that keeps the sequences
  /// above it (pruning). Finite, >= 0. Default 0.13.
  double p = 0.13;
  /// Candidate z values are 2.5, 3.0, ... < sd_lim; without a winner ε = μ + sd_lim·σ (the
  /// reference's hard-coded 12.0). Finite, >= 2.5. Default 12.
  double sd_lim = 12.0;
  /// Replace e_s[0, l_s) by the mean of e_s[0, 2·l_s), as the reference does for every channel
  /// except "C-2" (false = the "C-2" behaviour). Default true.
  bool replace_warmup = true;
  /// Rows [0, num_to_ignore) are never flagged. −1 (default) = the reference's rule: 2·l_s, but
  /// l_s when N < 2500 and 0 when N < 1800 (N = number of error rows). >= −1.
  int64_t num_to_ignore = -1;
  /// History length h in rows; 0 (default) = batch_size·window_size.
  int64_t history = 0;
  /// A window flags nothing unless max(e_s over the window) > min_error (the reference's 0.05,
  /// which assumes data scaled to [−1, 1]; −infinity disables the gate). Not NaN. Default 0.05.
  double min_error = 0.05;
  /// With targets only: a window flags nothing unless σ(e_s) > target_gate·σ(y) or
  /// max(e_s) > target_gate·IR, and a row is flagged only if its value also exceeds
  /// target_gate·IR (IR = 95th − 5th percentile of the window's targets). The reference's 0.05.
  /// Finite, >= 0.
  double target_gate = 0.05;
  /// Also search a threshold for the errors mirrored about the window mean (2μ − e_s) to flag
  /// unusually LOW errors, as the reference does. Default true.
  bool inverse = true;
  /// Window layout. Default Batch (Telemanom's).
  TelemanomMode mode = TelemanomMode::Batch;
};

/// Optional telemetry targets for the reference's scale gates: Telemanom's y_test, row-major
/// [N, columns] (row k = the n_predictions target values of error row k; all columns are used,
/// as in the reference). Empty `y_test` = no targets: the target gates are skipped and
/// sd_values / perc_* / inter_range are reported as 0.
struct TelemanomTargets {
  std::span<const double> y_test;
  int64_t columns = 0;
};

/// One reference-style score entry: a run of rows one window flagged (inclusive, error-stream
/// rows, not shifted) and its score max_i max(|e_s[i] − ε|, |e_inv[i] − ε_inv|) / (μ + σ).
struct TelemanomScore {
  int64_t start_idx = 0;
  int64_t end_idx = 0;
  double score = 0.0;
};

/// An inclusive [start, end] pair of error-stream rows.
struct TelemanomSpan {
  int64_t start = 0;
  int64_t end = 0;
};

/// Everything computed for one error window (the reference's ErrorWindow).
struct TelemanomWindow {
  int64_t index = 0;  ///< window number i
  int64_t start = 0;  ///< statistics use e_s rows [start, end)
  int64_t end = 0;
  int64_t judge_start = 0;   ///< rows [judge_start, end) are new here and may be flagged
  double mean_e_s = 0.0;     ///< μ: numpy mean of e_s over the window
  double sd_e_s = 0.0;       ///< σ: numpy (population) std of e_s over the window
  double sd_values = 0.0;    ///< std of all target values of the window's rows (0 without targets)
  double perc_high = 0.0;    ///< 95th percentile of those values (numpy linear; 0 without targets)
  double perc_low = 0.0;     ///< 5th percentile (0 without targets)
  double inter_range = 0.0;  ///< perc_high − perc_low
  /// σ <= 1e-12·|μ|: the window is constant up to rounding (field case F12). Then no z is
  /// searched, ε = ε_inv = μ and nothing is flagged.
  bool flat = false;
  /// The scale gates passed (min_error, and the target gates when targets were given).
  bool gate_open = false;
  double z = 0.0;            ///< chosen z for e_s (sd_lim when no candidate won)
  double epsilon = 0.0;      ///< ε = μ + z·σ (μ when flat)
  double z_inv = 0.0;        ///< chosen z for the mirrored errors (sd_lim when none won / inverse off)
  double epsilon_inv = 0.0;  ///< ε_inv = μ + z_inv·σ
  /// Rows flagged for high (regular) and low (inverse) errors, before and after pruning.
  int64_t n_flagged_before_prune = 0;
  int64_t n_flagged_after_prune = 0;
  int64_t n_flagged_before_prune_inv = 0;
  int64_t n_flagged_after_prune_inv = 0;
  /// Runs of >= 2 flagged rows before pruning (error-stream rows, inclusive).
  std::vector<TelemanomSpan> seqs_before_prune;
  std::vector<TelemanomSpan> seqs_before_prune_inv;
  /// Largest value in the window not flagged now or before, the pruning baseline; absent when
  /// nothing was above ε (the reference's −1000000 sentinel) or no such row exists.
  std::optional<double> non_anom_max;
  std::optional<double> non_anom_max_inv;
  std::vector<TelemanomScore> scores;  ///< one entry per run of rows this window flagged
};

/// An anomaly event: a run of >= 2 flagged rows.
struct TelemanomEvent {
  int64_t start = 0;         ///< first row (error-stream row, inclusive)
  int64_t end = 0;           ///< last row (inclusive)
  int64_t series_start = 0;  ///< start + l_s: position in the original series (reference E_seq)
  int64_t series_end = 0;    ///< end + l_s
  double score = 0.0;        ///< max of the score entries that overlap the event
};

/// Output of telemanom_detect. Sizes are proportional to the input.
struct TelemanomResult {
  std::vector<double> e_s;               ///< [N] smoothed errors after the warm-up overwrite
  int64_t smoothing_span = 0;            ///< EWMA span used (<= 1: none)
  int64_t history = 0;                   ///< h in rows
  int64_t num_to_ignore = 0;             ///< rows [0, num_to_ignore) are never flagged
  std::vector<TelemanomWindow> windows;  ///< in processing order
  std::vector<int64_t> flagged;          ///< flagged rows, ascending, unique
  std::vector<TelemanomScore> scores;    ///< all windows' entries in window order (reference
                                         ///< anom_scores; adjacent entries are not merged)
  std::vector<TelemanomEvent> events;    ///< ascending, disjoint, non-adjacent
};

/// pandas `Series.ewm(span=span, adjust=True).mean()` for a complete series (no NaN):
/// y[t] = Σ_{j<=t} (1−α)^(t−j) x[j] / Σ_{j<=t} (1−α)^(t−j), α = 2/(span + 1), evaluated with
/// pandas' own recursion (weighted mean and accumulated weight; a run of equal values keeps the
/// mean unchanged, so a constant series stays exactly constant). Bit-identical to pandas 1.5.
/// `x`: any values (NaN and ±inf are not checked here); `span` >= 1 (1 = identity).
/// Throws rnnad::Error naming `span` when it is < 1 or not finite. Allocates the result only.
std::vector<double> ewm_mean(std::span<const double> x, double span);

/// Telemanom's prediction errors e[k] = |y_hat[k] − y_test[k][0]| (errors.py `Errors.__init__`):
/// `y_hat` [N], `y_test` row-major [N, n_predictions]; only column 0 is used.
/// Throws ShapeError when y_test.size() != y_hat.size()·n_predictions, rnnad::Error naming
/// `n_predictions` when it is < 1.
std::vector<double> telemanom_errors(std::span<const double> y_hat, std::span<const double> y_test,
                                     int64_t n_predictions);

/// Telemanom's smoothing: ewm_mean with span trunc(batch_size·window_size·smoothing_perc), then
/// (replace_warmup) e_s[0, min(l_s, N)) = numpy mean of e_s[0, min(2·l_s, N)).
/// `errors`: [N] finite values, N >= 1. Throws rnnad::Error naming the parameter or the first
/// non-finite row.
std::vector<double> telemanom_smooth(std::span<const double> errors, const TelemanomParams& params = {});

/// Telemanom's dynamic threshold over a complete error (or any score) series `errors` [N]:
/// smoothing, per-window ε search for high and low errors, flagging with the error buffer,
/// pruning, scores and events (algorithms.md §1.4–§1.10, with the differences listed in
/// docs/thresholds.md). `targets` optional (reference scale gates). Never returns NaN; memory
/// O(N + h·columns); time O(N/batch_size · h · (19 + columns)) for the default z grid.
/// Throws rnnad::Error for a bad parameter (named), an empty series, or a non-finite error
/// (naming the row: NaN "no score" rows must be removed first, e.g. pass the subspan after the
/// leading ones and add its offset to the indices); ShapeError when targets do not have
/// N·columns values; rnnad::Error for a non-finite target.
TelemanomResult telemanom_detect(std::span<const double> errors, const TelemanomParams& params = {},
                                 const TelemanomTargets& targets = {});

}  // namespace rnnad
