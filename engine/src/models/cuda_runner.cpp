// The CUDA runner: host tensors in and out, the model graph (graphs.h on CudaBackend) on the
// device in between. Every device and pinned buffer is allocated here, at construction; a call
// copies its inputs through pinned memory, queues the graph on the context's stream, copies the
// outputs back and waits for the stream once (docs/architecture.md, "CUDA backend").
#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "cuda_backend.h"
#include "graphs.h"
#include "rnnad/cuda/score_kernels.h"
#include "rnnad/error.h"

namespace rnnad::detail {

namespace {

std::size_t sz(int64_t n) { return static_cast<std::size_t>(n); }

// Host <-> device transfers of one call through two pinned areas: inputs are packed one after
// another into `in`, outputs into `out`, and copied to the caller's arrays after one wait.
class Staging {
 public:
  Staging(const cuda::Context& ctx, int64_t in_floats, int64_t out_floats)
      : m_ctx(ctx), m_in(sz(in_floats)), m_out(sz(out_floats)) {}

  void begin() {
    // A call that threw after queueing copies may still have them in flight from the pinned
    // areas about to be reused: wait for them first (their own error was already reported).
    if (m_open) {
      try {
        m_ctx.synchronize();
      } catch (const Error&) {
      }
    }
    m_open = true;
    m_in_used = m_out_used = 0;
    m_pending_count = 0;
  }
  // Queues host[0, n) -> dev; returns dev.
  float* put(const float* host, int64_t n, float* dev) {
    float* p = m_in.data() + m_in_used;
    std::memcpy(p, host, sz(n) * sizeof(float));
    cuda::to_device(m_ctx, dev, p, n);
    m_in_used += n;
    return dev;
  }
  // Queues dev[0, n) -> host (delivered by finish()).
  void get(float* host, const float* dev, int64_t n) {
    float* p = m_out.data() + m_out_used;
    cuda::to_host(m_ctx, p, dev, n);
    m_pending[m_pending_count++] = {host, p, n};
    m_out_used += n;
  }
  // Waits for the stream (throws CudaError for any fault in the queued work), then delivers.
  void finish() {
    m_ctx.synchronize();
    for (int i = 0; i < m_pending_count; ++i)
      std::memcpy(m_pending[i].host, m_pending[i].pinned, sz(m_pending[i].n) * sizeof(float));
    m_pending_count = 0;
    m_open = false;
  }

 private:
  struct Pending {
    float* host;
    const float* pinned;
    int64_t n;
  };
  const cuda::Context& m_ctx;
  cuda::PinnedBuffer m_in, m_out;
  int64_t m_in_used = 0, m_out_used = 0;
  std::array<Pending, 4> m_pending{};
  int m_pending_count = 0;
  bool m_open = false;
};

class CudaRunner final : public Runner {
 public:
  CudaRunner(const Model& m, int device, CUstream_st* stream, cuda::Strategy strategy, int64_t max_batch,
             int64_t max_seq_len)
      : m_ctx(device, stream), m_cfg(m.config()) {
    const int64_t mb = max_batch, msl = max_seq_len, I = m_cfg.input_size();
    int64_t y = 0, a = 0;  // main output and attention weights, floats
    switch (m_cfg.model_kind) {
      case ModelKind::Rnn: {
        const RnnConfig& r = m_cfg.rnn;
        m_state = r.num_layers * r.num_directions() * mb * r.hidden_size;
        y = msl * mb * r.num_directions() * r.output_size();
        break;
      }
      case ModelKind::Prediction:
        m_state = m_cfg.prediction.num_layers * mb * m_cfg.prediction.hidden_size;
        y = msl * mb * m_cfg.prediction.prediction_size();
        break;
      case ModelKind::Attention:
        m_attn_seq = std::min(msl, m_cfg.seq_len());
        a = m_attn_seq * mb * m_attn_seq;
        [[fallthrough]];
      case ModelKind::Reconstruction:
        y = msl * mb * I;
        break;
    }
    m_graph = make_graph(CudaBackend{&m_ctx, strategy}, m, mb, msl);
    m_x = cuda::DeviceBuffer(sz(msl * mb * I));
    // run_windows' series rows (at most T·max_batch rows for a stride <= T): a windowed forecaster
    // gets its own buffer; reconstructions stage them in m_y, which the gather has read before
    // the graph writes it (stream order).
    if (m_cfg.model_kind == ModelKind::Prediction && m_cfg.prediction.state == PredictionConfig::State::Windowed)
      m_rows = cuda::DeviceBuffer(sz(std::min(msl, m_cfg.seq_len()) * mb * I));
    m_y = cuda::DeviceBuffer(sz(y));
    m_attn = cuda::DeviceBuffer(sz(a));
    for (auto& s : m_states) s = cuda::DeviceBuffer(sz(m_state));
    m_io.emplace(m_ctx, msl * mb * I + 2 * m_state, y + a + 2 * m_state);
    m_ctx.synchronize_device();
  }

  const std::string& description() const { return m_ctx.description(); }

  std::unique_ptr<WindowScorer> make_window_scorer(const ScoringConfig& scoring, int64_t max_batch) override {
    const bool windowed_prediction =
        m_cfg.model_kind == ModelKind::Prediction && m_cfg.prediction.state == PredictionConfig::State::Windowed;
    if (m_cfg.model_kind == ModelKind::Rnn || (m_cfg.model_kind == ModelKind::Prediction && !windowed_prediction))
      return nullptr;
    if (m_cfg.seq_len() * max_batch * m_cfg.input_size() > static_cast<int64_t>(m_x.size())) return nullptr;
    m_ctx.activate();
    return make_cuda_window_scorer(m_ctx, *m_graph, m_x.data(), m_y.data(), m_cfg, scoring, max_batch);
  }

  void forward(int64_t T, int64_t B, const float* x, const float* h0, const float* c0, float* output, float* h_n,
               float* c_n) override {
    const RnnConfig& r = m_cfg.rnn;
    const int64_t S = r.num_layers * r.num_directions() * B * r.hidden_size;
    Staging& io = begin();
    const float* dh0 = h0 ? io.put(h0, S, m_states[0].data()) : nullptr;
    const float* dc0 = c0 ? io.put(c0, S, m_states[1].data()) : nullptr;
    io.put(x, T * B * r.input_size, m_x.data());
    float* dc_n = c_n ? m_states[3].data() : nullptr;
    m_graph->forward(T, B, m_x.data(), dh0, dc0, m_y.data(), m_states[2].data(), dc_n);
    io.get(output, m_y.data(), T * B * r.num_directions() * r.output_size());
    io.get(h_n, m_states[2].data(), S);
    if (c_n) io.get(c_n, dc_n, S);
    io.finish();
  }

  void reconstruct(int64_t T, int64_t B, const float* x, float* recon, float* attn) override {
    if (attn && T > m_attn_seq)
      throw ShapeError("attention: the CUDA backend returns attention weights for windows of up to " +
                       std::to_string(m_attn_seq) + " steps (the model's seq_len), got " + std::to_string(T));
    const int64_t I = m_cfg.input_size();
    Staging& io = begin();
    io.put(x, T * B * I, m_x.data());
    m_graph->reconstruct(T, B, m_x.data(), m_y.data(), attn ? m_attn.data() : nullptr);
    io.get(recon, m_y.data(), T * B * I);
    if (attn) io.get(attn, m_attn.data(), T * B * T);
    io.finish();
  }

  // Windows apart (stride > T) are cheaper to gather on the host: the rows between them are unused.
  bool run_windows(int64_t T, int64_t count, int64_t stride, const float* rows, float* recon, float* attn,
                   float* pred) override {
    const int64_t I = m_cfg.input_size(), span = (count - 1) * stride + T;
    const cuda::ScoreBatchDims d{static_cast<int>(T), static_cast<int>(count), static_cast<int>(I),
                                 static_cast<int>(stride)};
    float* staged = pred ? m_rows.data() : m_y.data();
    const std::size_t room = pred ? m_rows.size() : m_y.size();
    if (stride > T || span * I > static_cast<int64_t>(room) || !cuda::score_batch_fits(count, T, I, stride) ||
        (attn && T > m_attn_seq))
      return false;
    Staging& io = begin();
    io.put(rows, span * I, staged);
    cuda::gather_windows(cuda::GatherWindowsArgs<float>{d, staged, m_x.data()}, m_ctx.stream());
    if (pred) {
      m_graph->predict(T, count, m_x.data(), m_y.data());
      io.get(pred, m_y.data(), count * m_cfg.prediction.prediction_size());
    } else {
      m_graph->reconstruct(T, count, m_x.data(), m_y.data(), attn ? m_attn.data() : nullptr);
      io.get(recon, m_y.data(), T * count * I);
      if (attn) io.get(attn, m_attn.data(), T * count * T);
    }
    io.finish();
    return true;
  }

  void predict(int64_t T, int64_t B, const float* x, float* pred) override {
    Staging& io = begin();
    io.put(x, T * B * m_cfg.input_size(), m_x.data());
    m_graph->predict(T, B, m_x.data(), m_y.data());
    io.get(pred, m_y.data(), B * m_cfg.prediction.prediction_size());
    io.finish();
  }

  // Chunks of up to max_seq_len steps; the state stays on the device between chunks.
  void predict_stateful(int64_t N, int64_t B, const float* x, float* pred, float* h, float* c) override {
    const PredictionConfig& p = m_cfg.prediction;
    const int64_t I = p.input_size, P = p.prediction_size(), S = p.num_layers * B * p.hidden_size;
    const int64_t chunk = static_cast<int64_t>(m_x.size()) / (B * I);
    const bool lstm = p.cell == CellType::Lstm;
    float* dh = m_states[0].data();
    float* dc = lstm ? m_states[1].data() : nullptr;
    for (int64_t start = 0; start < N;) {
      const int64_t n = std::min(chunk, N - start);
      Staging& io = begin();
      if (start == 0) {
        if (h)
          io.put(h, S, dh);
        else
          cuda::zero(m_ctx, dh, S);
        if (lstm) {
          if (c)
            io.put(c, S, dc);
          else
            cuda::zero(m_ctx, dc, S);
        }
      }
      io.put(x + start * B * I, n * B * I, m_x.data());
      m_graph->predict_stateful(n, B, m_x.data(), m_y.data(), dh, dc);
      io.get(pred + start * B * P, m_y.data(), n * B * P);
      start += n;
      if (start == N) {
        if (h) io.get(h, dh, S);
        if (c && lstm) io.get(c, dc, S);
      }
      io.finish();
    }
  }

 private:
  Staging& begin() {
    m_ctx.activate();
    m_io->begin();
    return *m_io;
  }

  cuda::Context m_ctx;
  const ModelConfig& m_cfg;
  std::unique_ptr<Runner> m_graph;
  int64_t m_state = 0, m_attn_seq = 0;
  cuda::DeviceBuffer m_x, m_y, m_attn, m_states[4];  // states: h0/h, c0/c, h_n, c_n
  cuda::DeviceBuffer m_rows;                         // run_windows: a windowed forecaster's series rows
  std::optional<Staging> m_io;
};

}  // namespace

std::unique_ptr<Runner> make_cuda_runner(const Model& model, int device, CUstream_st* stream, int kernels,
                                         int64_t max_batch, int64_t max_seq_len, std::string* description) {
  const cuda::Strategy strategy = kernels == 1   ? cuda::Strategy::Step
                                  : kernels == 2 ? cuda::Strategy::Persistent
                                  : kernels == 3 ? cuda::Strategy::Gemm
                                                 : cuda::Strategy::Auto;
  auto runner = std::make_unique<CudaRunner>(model, device, stream, strategy, max_batch, max_seq_len);
  if (description) *description = runner->description();
  return runner;
}

}  // namespace rnnad::detail
