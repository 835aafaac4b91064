// Scoring a batch of windows on the device (docs/scoring.md §8). Reconstructions: the windows
// gathered from the batch's normalised rows, each step's error vector scored, the scores of
// overlapping windows pooled into their rows, and the spread of outputs and inputs (F29).
// Windowed forecasters: each window's prediction scored against the row after the window (or, for
// lstm_ad, the last `horizon` predictions of that row), and the spread of predictions, targets and
// steps. Either way only scores return to the host. Argument structs, geometry and checks; plain
// C++17, no CUDA header (rules: docs/kernels.md). Kernel bodies: kernels/score_kernels.cuh.
//
// A batch holds windows [first, first + count) of a series of F features; window w (0-based in the
// batch) covers the batch's rows [w·stride, w·stride + T). Row indices below are relative to the
// batch's first row first·stride: `rows` [span, F] row-major float64 are the normalised rows the
// windows cover, span = (count − 1)·stride + T.
#pragma once

#include <string>

#include "rnnad/error.h"
#include "rnnad/score_math.h"

struct CUstream_st;

namespace rnnad::cuda {

inline constexpr int kScoreThreads = 128;  ///< threads per block of every score kernel

/// Batch dimensions shared by the score kernels.
struct ScoreBatchDims {
  int seq_len = 0;   ///< T
  int count = 0;     ///< windows in the batch
  int features = 0;  ///< F
  int stride = 1;    ///< rows between window starts
  /// Rows the windows cover: (count − 1)·stride + T.
  long long span() const { return static_cast<long long>(count - 1) * stride + seq_len; }
};

/// x[t, w, f] = float(rows[(w·stride + t)·F + f]): the model's time-major input [T, count, F]
/// from a batch's rows (Row: double for the window scorer, float for Engine::run_windows).
/// Geometry: grid ceil(T·count·F / 128), block 128, one element per thread.
template <class Row>
struct GatherWindowsArgs {
  ScoreBatchDims dims;
  const Row* rows = nullptr;  ///< [span, F]
  float* x = nullptr;         ///< [T, count, F]
};

/// Scores step t of window w: e = rows[w·stride + t] − recon[t, w] (float64), then
/// scores[w·T + t] = score_error_vector(terms, e) and contrib[(w·T + t)·F + f] its contributions.
/// A step whose reconstruction is not finite sets *bad = min(*bad, w·T + t) (the caller sets *bad
/// to INT_MAX first) and scores NaN. Methods absolute, squared and mahalanobis (terms.mean [F] and
/// terms.precision [F, F] device arrays). Geometry: grid ceil(count·T / 128), block 128, one step
/// per thread; work: scratch [count·T, window_error_work(method, F)].
struct WindowErrorArgs {
  ScoreBatchDims dims;
  ScoreTerms terms;
  const double* rows = nullptr;  ///< [span, F]
  const float* recon = nullptr;  ///< [T, count, F]
  double* scores = nullptr;      ///< [count, T]
  double* contrib = nullptr;     ///< [count, T, F]
  double* work = nullptr;        ///< [count, T, 3F]
  int* bad = nullptr;            ///< one int
};

/// Pools the batch's step scores into its rows (docs/scoring.md §4, score_math.h pool_value), in
/// window order, exactly as the host Scorer does. Row r (relative) of the batch lives at slot
/// (first_row + r) mod capacity of `ring` [capacity, 1 + F]: its pooled score, then its F pooled
/// contributions (mean: sums; the caller divides). Rows first_row + r >= fresh_row have no pooled
/// value yet (a NaN score, as the host's); a window is pooled as the row's first while the row's
/// score is NaN, as on the host; a fresh row no window covers gets NaN. Pools rows [0, extent), extent =
/// max(span, count·stride): the rows up to the next batch's first row, gaps between windows
/// included. Geometry: grid extent, block 128; thread c of a row handles columns c, c + 128, ...
/// of its 1 + F (0: the score).
struct PoolRowsArgs {
  ScoreBatchDims dims;
  ScorePooling pooling = ScorePooling::Mean;
  const double* scores = nullptr;   ///< [count, T]
  const double* contrib = nullptr;  ///< [count, T, F]
  double* ring = nullptr;           ///< [capacity, 1 + F]
  long long first_row = 0;          ///< series row of the batch's row 0 (first · stride)
  long long fresh_row = 0;          ///< series rows >= this have not been pooled before
  long long capacity = 0;           ///< ring rows, >= extent
  /// Rows pooled: max(span, count·stride).
  long long extent() const {
    const long long next = static_cast<long long>(dims.count) * dims.stride;
    return dims.span() > next ? dims.span() : next;
  }
};

/// Per feature f (block f), the spread of the batch's count·T reconstructed values recon[·, ·, f]
/// and of the inputs they are compared with (F29): stats[f] and stats[F + f], each (count, mean,
/// m2) as three doubles, merged in a fixed order (Welford per thread, Chan's combination across
/// threads). Geometry: grid F, block 128.
struct SpreadArgs {
  ScoreBatchDims dims;
  const double* rows = nullptr;  ///< [span, F]
  const float* recon = nullptr;  ///< [T, count, F]
  double* stats = nullptr;       ///< [2F, 3]
};

/// Scores the prediction of window w (made after the batch's row q = w·stride + T − 1) against
/// row r = q + 1 when it exists (r < rows_in), as the host Scorer does (docs/scoring.md §2-3):
/// absolute, squared, gaussian_nll: e_j = rows[r, target_cols[j]] − mean_j of the one-step-ahead
/// forecast (gaussian_nll with its log-variance), score_error_vector(); lstm_ad (stride 1):
/// u[j·L + h] = rows[r, target_cols[j]] − the (h+1)-step-ahead mean made after row r − 1 − h, i.e.
/// by window w − h (of this batch, or history row L − 1 + w − h when w < h, or none when the series
/// has no such window: no score), score_lstm_ad(). scores[w] and contrib[w·d + j]; NaN where the
/// window has no score. A prediction with a non-finite value sets *bad = min(*bad, w) (the caller
/// sets *bad to INT_MAX first) and scores NaN. Geometry: grid ceil(count / 128), block 128, one
/// window per thread.
struct PredictionErrorArgs {
  ScoreBatchDims dims;               ///< T, count, features = the row width F, stride
  ScoreTerms terms;                  ///< absolute, squared, gaussian_nll or lstm_ad (mean, precision: device arrays)
  int targets = 0;                   ///< d
  int moments = 1;                   ///< K: 1 (point) or 2 (gaussian: means, then log-variances)
  int horizon = 1;                   ///< L
  const int* target_cols = nullptr;  ///< [d] the row column of each target
  const double* rows = nullptr;      ///< [rows_in, F]
  long long rows_in = 0;             ///< span, or span + 1 when the row after the last window exists
  long long first_window = 0;        ///< series index of window 0
  const float* pred = nullptr;       ///< [count, P], P = L·K·d, laid out [h][k][j]
  const float* history = nullptr;    ///< [L − 1, P] the predictions of the L − 1 windows before window 0
                                     ///< (oldest first); lstm_ad with L > 1 only
  double* scores = nullptr;          ///< [count]
  double* contrib = nullptr;         ///< [count, d]
  double* work = nullptr;            ///< [count, prediction_error_work(method, d, L)]
  int* bad = nullptr;                ///< one int
  double* stats = nullptr;           ///< prediction_spread only: [2d + 2, 3]
  RNNAD_HOST_DEVICE int size() const { return horizon * moments * targets; }  ///< P
  /// Whether window w's target row is in `rows`.
  RNNAD_HOST_DEVICE bool has_target(long long w) const { return w * dims.stride + dims.seq_len < rows_in; }
};

/// Doubles of prediction_errors scratch per window: lstm_ad u, terms and work (3·d·L); else the
/// errors, log-variances and a score's work (4·d).
RNNAD_HOST_DEVICE inline int prediction_error_work(ScoreMethod method, int targets, int horizon) {
  return method == ScoreMethod::LstmAd ? 3 * targets * horizon : 4 * targets;
}

/// Spread of a batch of forecasts (F29), over the windows whose target row exists: block j < d,
/// the one-step-ahead means of target j and the values they forecast, into stats[j] and stats[d +
/// j]; block d, |mean_j − x(q, j)| (echo) and |x(q + 1, j) − x(q, j)| (step) over every such window
/// and target, into stats[2d] and stats[2d + 1]; each (count, mean, m2), merged in a fixed order.
/// `a` as for prediction_errors, with `stats` (scores, contrib, work, bad and history unused).
/// Geometry: grid d + 1, block 128.
using PredictionSpreadArgs = PredictionErrorArgs;

/// The L − 1 predictions before the next batch's window 0: the last L − 1 rows of history [L − 1, P]
/// followed by pred [count, P], into next [L − 1, P] (not aliasing either). Geometry: grid
/// ceil((L − 1)·P / 128), block 128.
struct KeepHistoryArgs {
  const float* history = nullptr;
  const float* pred = nullptr;
  float* next = nullptr;
  int keep = 0;   ///< L − 1
  int count = 0;  ///< windows in pred
  int size = 0;   ///< P
};

/// Whether batches of up to max_batch windows (seq_len T, F features, stride) fit the kernels'
/// int indexing: max_batch·T steps, the span and the pooled extent below 2^31.
inline bool score_batch_fits(long long max_batch, long long T, long long F, long long stride) {
  const long long limit = 0x7fffffffLL;
  if (max_batch < 1 || T < 1 || F < 1 || stride < 1 || F >= limit || T >= limit || stride >= limit) return false;
  if (max_batch > limit / T) return false;
  const long long span = (max_batch - 1) * stride + T, next = max_batch * stride;
  return max_batch - 1 <= (limit - T) / stride && span <= limit && next <= limit;
}

/// Throws ShapeError naming the argument when `d` is not a batch (every size >= 1) or exceeds the
/// kernels' int indexing (score_batch_fits).
inline void check_score_dims(const char* kernel, const ScoreBatchDims& d) {
  if (d.seq_len < 1 || d.count < 1 || d.features < 1 || d.stride < 1)
    throw ShapeError(std::string(kernel) + ": seq_len, count, features and stride must be >= 1 (got " +
                     std::to_string(d.seq_len) + ", " + std::to_string(d.count) + ", " + std::to_string(d.features) +
                     ", " + std::to_string(d.stride) + ")");
  if (!score_batch_fits(d.count, d.seq_len, d.features, d.stride))
    throw ShapeError(std::string(kernel) + ": a batch of " + std::to_string(d.count) + " windows of " +
                     std::to_string(d.seq_len) + " steps at stride " + std::to_string(d.stride) +
                     " is beyond the kernels' int indexing");
}

/// Doubles of window_errors scratch per step: the error vector, plus 2F for mahalanobis.
RNNAD_HOST_DEVICE inline int window_error_work(ScoreMethod method, int features) {
  return method == ScoreMethod::Mahalanobis ? 3 * features : features;
}

/// The RunningStats a spread kernel stored as (count, mean, m2) at st.
inline RunningStats unpack_stats(const double* st) {
  RunningStats part;
  part.count = static_cast<int64_t>(st[0]);
  part.mean = st[1];
  part.m2 = st[2];
  return part;
}

/// Merges output_spread's (or prediction_spread's first 2·features) stats [2F, 3] (count, mean, m2
/// per feature: outputs, then inputs) into output [F] and input [F] (RunningStats::merge, Chan's
/// combination).
inline void merge_spread(const double* stats, int features, RunningStats* output, RunningStats* input) {
  for (int k = 0; k < 2; ++k)
    for (int f = 0; f < features; ++f) (k == 0 ? output : input)[f].merge(unpack_stats(stats + (k * features + f) * 3));
}

/// Throws ShapeError when an argument breaks the contracts above.
inline void check_window_error_args(const WindowErrorArgs& a) {
  check_score_dims("window_errors", a.dims);
  if (!a.rows || !a.recon || !a.scores || !a.contrib || !a.work || !a.bad)
    throw ShapeError("window_errors: rows, recon, scores, contrib, work and bad must not be null");
  if (a.terms.method != ScoreMethod::Absolute && a.terms.method != ScoreMethod::Squared &&
      a.terms.method != ScoreMethod::Mahalanobis)
    throw ShapeError("window_errors: only the absolute, squared and mahalanobis methods score reconstructions");
  if (a.terms.method == ScoreMethod::Mahalanobis && (!a.terms.mean || !a.terms.precision))
    throw ShapeError("window_errors: mahalanobis needs the mean and precision");
}

inline void check_prediction_error_args(const PredictionErrorArgs& a) {
  check_score_dims("prediction_errors", a.dims);
  if (a.targets < 1 || a.horizon < 1 || (a.moments != 1 && a.moments != 2) || a.first_window < 0)
    throw ShapeError("prediction_errors: targets and horizon must be >= 1, moments 1 or 2, first_window >= 0");
  if (a.rows_in < a.dims.span() || a.rows_in > a.dims.span() + 1)
    throw ShapeError("prediction_errors: rows_in must be the span or the span + 1");
  if (!a.target_cols || !a.rows || !a.pred || !a.scores || !a.contrib || !a.work || !a.bad)
    throw ShapeError("prediction_errors: target_cols, rows, pred, scores, contrib, work and bad must not be null");
  const ScoreMethod m = a.terms.method;
  if (m == ScoreMethod::Mahalanobis) throw ShapeError("prediction_errors: mahalanobis scores reconstructions");
  if (m == ScoreMethod::GaussianNll && a.moments != 2)
    throw ShapeError("prediction_errors: gaussian_nll needs a gaussian head (moments 2)");
  if (m == ScoreMethod::LstmAd &&
      (a.dims.stride != 1 || !a.terms.mean || !a.terms.precision || (a.horizon > 1 && !a.history)))
    throw ShapeError(
        "prediction_errors: lstm_ad needs stride 1, the mean and precision, and a history for horizon > 1");
}

inline void check_pool_rows_args(const PoolRowsArgs& a) {
  check_score_dims("pool_rows", a.dims);
  if (!a.scores || !a.contrib || !a.ring) throw ShapeError("pool_rows: scores, contrib and ring must not be null");
  if (a.capacity < a.extent() || a.first_row < 0 || a.fresh_row < a.first_row)
    throw ShapeError("pool_rows: a ring of " + std::to_string(a.capacity) + " rows for " + std::to_string(a.extent()) +
                     " rows from row " + std::to_string(a.first_row) + " (fresh from " + std::to_string(a.fresh_row) +
                     ")");
}

inline unsigned score_blocks(long long threads) {
  return static_cast<unsigned>((threads + kScoreThreads - 1) / kScoreThreads);
}

/// Launchers, queued on `stream` (asynchronous). Each throws ShapeError before launching when its
/// arguments break the contract, CudaError when the launch fails.
void gather_windows(const GatherWindowsArgs<double>& args, CUstream_st* stream);
void gather_windows(const GatherWindowsArgs<float>& args, CUstream_st* stream);
void window_errors(const WindowErrorArgs& args, CUstream_st* stream);
void pool_rows(const PoolRowsArgs& args, CUstream_st* stream);
void output_spread(const SpreadArgs& args, CUstream_st* stream);
void prediction_errors(const PredictionErrorArgs& args, CUstream_st* stream);
void prediction_spread(const PredictionSpreadArgs& args, CUstream_st* stream);
void keep_history(const KeepHistoryArgs& args, CUstream_st* stream);

}  // namespace rnnad::cuda
