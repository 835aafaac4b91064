// The CUDA WindowScorers (runner.h; docs/scoring.md §8): a batch's normalised rows go up once,
// the windows are gathered and run through the model on the device, and the score kernels
// (rnnad/cuda/score_kernels.h) score them there: a reconstruction's steps pooled into rows, a
// forecaster's predictions against the rows after their windows. Only the finished rows, the
// output spread and the first non-finite output come back, after one wait. Every buffer is
// allocated at construction.
#include <algorithm>
#include <climits>
#include <cstring>

#include "cuda_backend.h"
#include "rnnad/cuda/score_kernels.h"
#include "rnnad/score_math.h"
#include "rnnad/scoring.h"

namespace rnnad::detail {

namespace {

std::size_t sz(int64_t n) { return static_cast<std::size_t>(n); }

// Waits for the stream after a failure, so that copies still queued into pinned areas land
// before those areas are reused, then rethrows.
[[noreturn]] void settle_and_rethrow(const cuda::Context& ctx) {
  try {
    ctx.synchronize();
  } catch (const Error&) {
  }
  throw;
}

class CudaWindowScorer final : public WindowScorer {
 public:
  CudaWindowScorer(const cuda::Context& ctx, Runner& graph, float* x, float* recon, const ModelConfig& cfg,
                   const ScoringConfig& scoring, int64_t max_batch)
      : m_ctx(ctx),
        m_graph(graph),
        m_x(x),
        m_recon(recon),
        m_T(cfg.seq_len()),
        m_F(cfg.input_size()),
        m_stride(scoring.stride),
        m_pooling(scoring.pooling),
        m_method(scoring.method),
        m_log_det(scoring.log_det),
        m_capacity(max_batch * scoring.stride + cfg.seq_len()),
        m_rows(sz(((max_batch - 1) * m_stride + m_T) * m_F)),
        m_scores(sz(max_batch * m_T)),
        m_contrib(m_scores.size() * sz(m_F)),
        m_work(m_scores.size() * sz(cuda::window_error_work(scoring.method, static_cast<int>(m_F)))),
        m_ring(sz(m_capacity * (m_F + 1))),
        m_stats(sz(6 * m_F)),
        m_bad(1),
        m_rows_in(m_rows.size()),
        m_rows_out(m_ring.size() + m_stats.size()),
        m_bad_io(1) {
    if (!scoring.mean.empty()) m_mean = cuda::upload(scoring.mean.data(), scoring.mean.size());
    if (!scoring.precision.empty()) m_precision = cuda::upload(scoring.precision.data(), scoring.precision.size());
    // The zero fills and uploads above ran on the legacy stream, which the context's non-blocking
    // stream does not wait for.
    m_ctx.synchronize_device();
  }

  int64_t run(const double* rows, int64_t first, int64_t count, int64_t series_rows, bool last, double* scores,
              double* contributions, OutputSpread& spread) override {
    m_ctx.activate();
    if (first == 0) m_fresh_row = 0;
    const cuda::ScoreBatchDims d{static_cast<int>(m_T), static_cast<int>(count), static_cast<int>(m_F),
                                 static_cast<int>(m_stride)};
    const int64_t row0 = first * m_stride, span = d.span();
    try {
      std::memcpy(m_rows_in.data(), rows, sz(span * m_F) * sizeof(double));
      cuda::to_device(m_ctx, m_rows.data(), m_rows_in.data(), span * m_F);
      m_bad_io.data()[0] = INT_MAX;
      cuda::to_device(m_ctx, m_bad.data(), m_bad_io.data(), 1);
      cuda::gather_windows(cuda::GatherWindowsArgs<double>{d, m_rows.data(), m_x}, m_ctx.stream());
      m_graph.reconstruct(m_T, count, m_x, m_recon, nullptr);
      cuda::WindowErrorArgs e;
      e.dims = d;
      e.terms = {m_method, m_mean.data(), m_precision.data(), m_log_det};
      e.rows = m_rows.data();
      e.recon = m_recon;
      e.scores = m_scores.data();
      e.contrib = m_contrib.data();
      e.work = m_work.data();
      e.bad = m_bad.data();
      cuda::window_errors(e, m_ctx.stream());
      cuda::PoolRowsArgs p;
      p.dims = d;
      p.pooling = m_pooling;
      p.scores = m_scores.data();
      p.contrib = m_contrib.data();
      p.ring = m_ring.data();
      p.first_row = row0;
      p.fresh_row = m_fresh_row;
      p.capacity = m_capacity;
      cuda::pool_rows(p, m_ctx.stream());
      cuda::output_spread({d, m_rows.data(), m_recon, m_stats.data()}, m_ctx.stream());
      // The final rows [row0, end) of the ring (slot = row mod capacity: at most two pieces), then the spread.
      const int64_t end = std::min<int64_t>(series_rows, row0 + (last ? p.extent() : count * m_stride));
      const int64_t W = m_F + 1, n = end - row0, slot0 = row0 % m_capacity, head = std::min(n, m_capacity - slot0);
      double* out = m_rows_out.data();
      cuda::to_host(m_ctx, out, m_ring.data() + slot0 * W, head * W);
      cuda::to_host(m_ctx, out + head * W, m_ring.data(), (n - head) * W);
      double* stats = out + n * W;
      cuda::to_host(m_ctx, stats, m_stats.data(), 6 * m_F);
      cuda::to_host(m_ctx, m_bad_io.data(), m_bad.data(), 1);
      m_ctx.synchronize();
      m_fresh_row = row0 + static_cast<int64_t>(p.extent());
      for (int64_t i = 0; i < n; ++i) {
        scores[row0 + i] = out[i * W];
        std::copy_n(out + i * W + 1, m_F, contributions + (row0 + i) * m_F);
      }
      cuda::merge_spread(stats, static_cast<int>(m_F), spread.output.data(), spread.input.data());
    } catch (...) {
      settle_and_rethrow(m_ctx);
    }
    const int bad = m_bad_io.data()[0];
    return bad == INT_MAX ? -1 : row0 + (bad / m_T) * m_stride + bad % m_T;
  }

 private:
  const cuda::Context& m_ctx;
  Runner& m_graph;
  float *const m_x, *const m_recon;  // the runner's input and output buffers [T, max_batch, F], idle between its calls
  const int64_t m_T, m_F, m_stride;
  const ScorePooling m_pooling;
  const ScoreMethod m_method;
  const double m_log_det;
  const int64_t m_capacity;  // ring rows: max_batch · stride + seq_len
  int64_t m_fresh_row = 0;   // series rows from here on have not been pooled
  cuda::DeviceArray<double> m_rows;
  cuda::DeviceArray<double> m_scores, m_contrib, m_work, m_ring, m_stats, m_mean, m_precision;
  cuda::DeviceArray<int> m_bad;
  cuda::PinnedArray<double> m_rows_in, m_rows_out;
  cuda::PinnedArray<int> m_bad_io;
};

// A windowed forecaster's batches: rows [span + 1, F] up (the row after the last window is the
// last window's target), predictions scored against their rows, the L − 1 predictions lstm_ad
// needs from earlier batches kept on the device (two buffers, swapped per batch).
class CudaPredictionScorer final : public WindowScorer {
 public:
  CudaPredictionScorer(const cuda::Context& ctx, Runner& graph, float* x, float* pred, const ModelConfig& cfg,
                       const ScoringConfig& scoring, int64_t max_batch)
      : m_ctx(ctx),
        m_graph(graph),
        m_x(x),
        m_pred(pred),
        m_T(cfg.seq_len()),
        m_F(cfg.input_size()),
        m_stride(scoring.stride),
        m_d(static_cast<int64_t>(cfg.prediction.targets.size())),
        m_K(cfg.prediction.moments()),
        m_L(cfg.prediction.horizon),
        m_P(cfg.prediction.prediction_size()),
        m_method(scoring.method),
        m_log_det(scoring.log_det),
        m_keep(scoring.method == ScoreMethod::LstmAd ? m_L - 1 : 0),
        m_rows(sz(((max_batch - 1) * m_stride + m_T + 1) * m_F)),
        m_scores(sz(max_batch)),
        m_contrib(sz(max_batch * m_d)),
        m_work(
            sz(max_batch * cuda::prediction_error_work(scoring.method, static_cast<int>(m_d), static_cast<int>(m_L)))),
        m_stats(sz((2 * m_d + 2) * 3)),
        m_history{cuda::DeviceArray<float>(sz(std::max<int64_t>(m_keep, 1) * m_P)),
                  cuda::DeviceArray<float>(sz(std::max<int64_t>(m_keep, 1) * m_P))},
        m_bad(1),
        m_rows_in(m_rows.size()),
        m_out(m_scores.size() + m_contrib.size() + m_stats.size()),
        m_bad_io(1) {
    std::vector<int> cols(cfg.prediction.targets.begin(), cfg.prediction.targets.end());
    m_targets = cuda::upload(cols.data(), cols.size());
    if (!scoring.mean.empty()) m_mean = cuda::upload(scoring.mean.data(), scoring.mean.size());
    if (!scoring.precision.empty()) m_precision = cuda::upload(scoring.precision.data(), scoring.precision.size());
    // The uploads above ran on the legacy stream, which the context's non-blocking stream does not wait for.
    m_ctx.synchronize_device();
  }

  int64_t run(const double* rows, int64_t first, int64_t count, int64_t series_rows, bool /*last*/, double* scores,
              double* contributions, OutputSpread& spread) override {
    m_ctx.activate();
    const cuda::ScoreBatchDims d{static_cast<int>(m_T), static_cast<int>(count), static_cast<int>(m_F),
                                 static_cast<int>(m_stride)};
    const int64_t row0 = first * m_stride, rows_in = std::min<int64_t>(d.span() + 1, series_rows - row0);
    try {
      std::memcpy(m_rows_in.data(), rows, sz(rows_in * m_F) * sizeof(double));
      cuda::to_device(m_ctx, m_rows.data(), m_rows_in.data(), rows_in * m_F);
      m_bad_io.data()[0] = INT_MAX;
      cuda::to_device(m_ctx, m_bad.data(), m_bad_io.data(), 1);
      cuda::gather_windows(cuda::GatherWindowsArgs<double>{d, m_rows.data(), m_x}, m_ctx.stream());
      m_graph.predict(m_T, count, m_x, m_pred);
      cuda::PredictionErrorArgs a;
      a.dims = d;
      a.terms = {m_method, m_mean.data(), m_precision.data(), m_log_det};
      a.targets = static_cast<int>(m_d);
      a.moments = static_cast<int>(m_K);
      a.horizon = static_cast<int>(m_L);
      a.target_cols = m_targets.data();
      a.rows = m_rows.data();
      a.rows_in = rows_in;
      a.first_window = first;
      a.pred = m_pred;
      a.history = m_keep > 0 ? m_history[m_current].data() : nullptr;
      a.scores = m_scores.data();
      a.contrib = m_contrib.data();
      a.work = m_work.data();
      a.bad = m_bad.data();
      a.stats = m_stats.data();
      cuda::prediction_errors(a, m_ctx.stream());
      cuda::prediction_spread(a, m_ctx.stream());
      if (m_keep > 0) {
        cuda::keep_history({m_history[m_current].data(), m_pred, m_history[1 - m_current].data(),
                            static_cast<int>(m_keep), static_cast<int>(count), static_cast<int>(m_P)},
                           m_ctx.stream());
        m_current = 1 - m_current;
      }
      double* out = m_out.data();
      cuda::to_host(m_ctx, out, m_scores.data(), count);
      cuda::to_host(m_ctx, out + count, m_contrib.data(), count * m_d);
      double* stats = out + count * (1 + m_d);
      cuda::to_host(m_ctx, stats, m_stats.data(), sz(m_stats.size()));
      cuda::to_host(m_ctx, m_bad_io.data(), m_bad.data(), 1);
      m_ctx.synchronize();
      if (m_bad_io.data()[0] != INT_MAX) return row0 + m_bad_io.data()[0] * m_stride + m_T - 1;
      // Window w scores row r = row0 + w·stride + T when the series has it.
      for (int64_t w = 0; w < count; ++w) {
        const int64_t r = row0 + w * m_stride + m_T;
        if (r >= series_rows) break;
        scores[r] = out[w];
        std::copy_n(out + count + w * m_d, m_d, contributions + r * m_d);
      }
      const int dd = static_cast<int>(m_d);
      cuda::merge_spread(stats, dd, spread.output.data(), spread.input.data());
      spread.echo.merge(cuda::unpack_stats(stats + 2 * dd * 3));
      spread.step.merge(cuda::unpack_stats(stats + (2 * dd + 1) * 3));
    } catch (...) {
      settle_and_rethrow(m_ctx);
    }
    return -1;
  }

 private:
  const cuda::Context& m_ctx;
  Runner& m_graph;
  float *const m_x, *const m_pred;  // the runner's input [T, max_batch, F] and output [max_batch, P] buffers
  const int64_t m_T, m_F, m_stride, m_d, m_K, m_L, m_P;
  const ScoreMethod m_method;
  const double m_log_det;
  const int64_t m_keep;  // predictions kept across batches: lstm_ad's horizon − 1, else 0
  int m_current = 0;     // m_history[m_current] holds the L − 1 predictions before the batch
  cuda::DeviceArray<double> m_rows, m_scores, m_contrib, m_work, m_stats, m_mean, m_precision;
  cuda::DeviceArray<float> m_history[2];
  cuda::DeviceArray<int> m_targets, m_bad;
  cuda::PinnedArray<double> m_rows_in, m_out;
  cuda::PinnedArray<int> m_bad_io;
};

}  // namespace

std::unique_ptr<WindowScorer> make_cuda_window_scorer(const cuda::Context& ctx, Runner& graph, float* x, float* y,
                                                      const ModelConfig& cfg, const ScoringConfig& scoring,
                                                      int64_t max_batch) {
  // Windows apart (stride > T) would send up the gap rows no window reads (and, for a
  // reconstruction, pool them): more traffic than the host path. Batches beyond the kernels' int
  // indexing stay on the host too.
  const int64_t T = cfg.seq_len(), F = cfg.input_size();
  if (scoring.stride > T || !cuda::score_batch_fits(max_batch, T + 1, F, scoring.stride)) return nullptr;
  if (cfg.model_kind == ModelKind::Prediction)
    return std::make_unique<CudaPredictionScorer>(ctx, graph, x, y, cfg, scoring, max_batch);
  return std::make_unique<CudaWindowScorer>(ctx, graph, x, y, cfg, scoring, max_batch);
}

}  // namespace rnnad::detail
