// The CUDA WindowScorer (runner.h; docs/scoring.md §8): a batch's normalised rows go up once,
// the windows are gathered, reconstructed, scored and pooled on the device by the score kernels
// (rnnad/cuda/score_kernels.h), and only the finished rows, the output spread and the first
// non-finite step come back, after one wait. Every buffer is allocated at construction.
#include <algorithm>
#include <climits>
#include <cstring>

#include "cuda_backend.h"
#include "rnnad/cuda/score_kernels.h"
#include "rnnad/score_math.h"

namespace rnnad::detail {

namespace {

std::size_t sz(int64_t n) { return static_cast<std::size_t>(n); }

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
              double* contributions, RunningStats* output, RunningStats* input) override {
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
      cuda::merge_spread(stats, static_cast<int>(m_F), output, input);
    } catch (...) {
      // Copies into the pinned areas may still be queued: let them land before they are reused.
      try {
        m_ctx.synchronize();
      } catch (const Error&) {
      }
      throw;
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

}  // namespace

std::unique_ptr<WindowScorer> make_cuda_window_scorer(const cuda::Context& ctx, Runner& graph, float* x, float* recon,
                                                      const ModelConfig& cfg, const ScoringConfig& scoring,
                                                      int64_t max_batch) {
  // Windows apart (stride > T) would send up the gap rows no window reads and pool them: more
  // traffic than the host path. Batches beyond the kernels' int indexing stay on the host too.
  const int64_t T = cfg.seq_len(), F = cfg.input_size();
  if (scoring.stride > T || !cuda::score_batch_fits(max_batch, T, F, scoring.stride)) return nullptr;
  return std::make_unique<CudaWindowScorer>(ctx, graph, x, recon, cfg, scoring, max_batch);
}

}  // namespace rnnad::detail
