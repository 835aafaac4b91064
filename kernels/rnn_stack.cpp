// cuda::RnnStack (rnnad/cuda/rnn_stack.h): cuBLAS input projections + fused cell steps.
#include "rnnad/cuda/rnn_stack.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "rnnad/cuda/cell_kernels.h"
#include "rnnad/cuda/gate_kernels.h"
#include "rnnad/cuda/ops.h"
#include "rnnad/cuda/persistent_rnn.h"
#include "rnnad/error.h"

namespace rnnad::cuda {

namespace {

std::size_t sz(int64_t n) { return static_cast<std::size_t>(n); }

// weight_hh [G, H] -> w_hh_t [H, G] (the cell kernels' layout, rnnad/cuda/cell_kernels.h).
DeviceBuffer upload_transposed(const float* w, int64_t rows, int64_t cols) {
  std::vector<float> t(sz(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < cols; ++k) t[sz(k * rows + r)] = w[r * cols + k];
  return upload(t.data(), t.size());
}

}  // namespace

const char* strategy_name(Strategy s) {
  switch (s) {
    case Strategy::Auto:
      return "auto";
    case Strategy::Step:
      return "step";
    case Strategy::Persistent:
      return "persistent";
    case Strategy::Gemm:
      return "gemm";
  }
  return "?";
}

RnnStack::RnnStack(const Context& ctx, const RnnDims& dims, const std::vector<RnnParams>& params, int64_t max_batch,
                   int64_t max_seq_len, Strategy strategy)
    : m_ctx(ctx),
      m_dims(dims),
      m_max_batch(max_batch),
      m_max_seq_len(max_seq_len),
      m_chunk_steps(1),
      m_strategy(strategy),
      m_device(persistent_device(ctx)),
      m_exact(PersistentWeights::F32) {
  if (dims.proj_size > 0)
    throw UnsupportedError("the CUDA backend does not run an LSTM with proj_size > 0 (proj_size " +
                           std::to_string(dims.proj_size) + "); it runs on the CPU (device cpu)");
  if (max_batch < 1 || max_batch > INT_MAX || max_seq_len < 1)
    throw ShapeError("cuda::RnnStack: max_batch must be in [1, 2^31) and max_seq_len >= 1 (got " +
                     std::to_string(max_batch) + ", " + std::to_string(max_seq_len) + ")");
  const int64_t D = dims.num_directions(), L = dims.num_layers, G = dims.gate_size(), H = dims.hidden_size;
  if (static_cast<int64_t>(params.size()) != L * D)
    throw std::invalid_argument("cuda::RnnStack: expected " + std::to_string(L * D) + " parameter sets, got " +
                                std::to_string(params.size()));
  std::vector<std::pair<const float*, std::size_t>> w_hh;
  for (const RnnParams& p : params) {
    if (!p.weight_ih || !p.weight_hh) throw std::invalid_argument("cuda::RnnStack: null weight");
    w_hh.emplace_back(p.weight_hh, sz(G * H));
  }
  m_exact = persistent_exact_weights(w_hh);
  if (strategy == Strategy::Persistent)
    for (int64_t b : {int64_t{1}, max_batch})  // the plans with 1 and with 8 rows per block
      if (!persistent_plan(persistent_cell(dims.cell), static_cast<int>(H), static_cast<int>(b), m_device, {}, m_exact))
        throw UnsupportedError("the persistent kernel keeps W_hh on chip: hidden size " + std::to_string(H) +
                               " at batch " + std::to_string(b) + " does not fit " + ctx.description() +
                               " (registers and shared memory of one block, of a cluster of up to 8, or of up to "
                               "one block per SM with 1 batch row per block; use the step or gemm kernels)");
  ctx.activate();
  const char* pipeline_env = std::getenv("RNNAD_CUDA_PIPELINE");
  m_pipeline = !dims.bidirectional && L >= 2 && (strategy == Strategy::Auto || strategy == Strategy::Persistent) &&
               !(pipeline_env && std::strcmp(pipeline_env, "0") == 0);
  const bool gemm = strategy == Strategy::Gemm || (strategy == Strategy::Auto && gemm_step(max_batch, G));
  for (int64_t l = 0; l < L; ++l)
    for (int64_t d = 0; d < D; ++d) {
      const RnnParams& p = params[sz(l * D + d)];
      Layer w;
      w.w_ih = upload(p.weight_ih, sz(G * dims.layer_input_size(l)));
      w.w_hh_t = upload_transposed(p.weight_hh, G, H);
      if (gemm) w.w_hh = upload(p.weight_hh, sz(G * H));
      if (p.bias_ih) w.b_ih = upload(p.bias_ih, sz(G));
      if (p.bias_hh) w.b_hh = upload(p.bias_hh, sz(G));
      m_layers.push_back(std::move(w));
    }
  m_chunk_steps = std::clamp<int64_t>(kProjectionChunkBytes / (max_batch * G * int64_t{4}), 1, max_seq_len);
  m_pipe_chunk_max = pipeline_chunk(max_seq_len);
  m_pipeline = m_pipeline && m_pipe_chunk_max < max_seq_len;  // e.g. a decoder stepped one step a call
  // Overlapping layers each need their own input projections, cell state and output sequence.
  const int64_t lanes = m_pipeline ? L : 1;
  m_gx = DeviceBuffer(sz(std::max(m_chunk_steps, lanes * m_pipe_chunk_max) * max_batch * G));
  if (gemm) m_gh = DeviceBuffer(sz(max_batch * G));
  if (dims.cell == CellType::Lstm) m_c = DeviceBuffer(sz(lanes * max_batch * H));
  m_zeros = DeviceBuffer(sz(max_batch * H));
  for (int64_t i = 0; i < (m_pipeline ? L - 1 : std::min<int64_t>(L - 1, 2)); ++i)
    m_layer_buf.emplace_back(sz(max_seq_len * max_batch * D * H));
  if (m_pipeline) {
    for (int64_t l = 1; l < L; ++l) m_lanes.push_back(std::make_unique<Context>(ctx.device()));
    m_done.resize(sz(L));
    ctx.activate();
  }
}

int64_t RnnStack::pipeline_chunk(int64_t seq_len) const {
  const auto root = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(seq_len))));
  return std::clamp<int64_t>(root, 1, m_chunk_steps);
}

bool RnnStack::pipelines(int64_t batch, int64_t seq_len) const {
  if (!m_pipeline || pipeline_chunk(seq_len) >= seq_len || strategy_for(batch, seq_len) != Strategy::Persistent)
    return false;
  if (batch != m_pipe_batch) {
    // Every layer's launch resident at once: no grid-wide barrier (its blocks would wait for SMs
    // another layer holds), and as many groups as L launches start.
    const PersistentCell cell = persistent_cell(m_dims.cell);
    const std::optional<PersistentGeometry> plan =
        persistent_plan(cell, static_cast<int>(m_dims.hidden_size), static_cast<int>(batch), m_device, {}, m_exact);
    m_pipe_fits = false;
    if (plan && !plan->grid_sync) {
      m_ctx.activate();
      const int64_t groups = plan->grid_x / static_cast<unsigned>(plan->cluster);
      m_pipe_fits = persistent_resident_groups(cell, *plan, m_device) >= m_dims.num_layers * groups;
    }
    m_pipe_batch = batch;
  }
  return m_pipe_fits;
}

PersistentDevice persistent_device(const Context& ctx) {
  ctx.activate();
  return {ctx.sm_count(), ctx.max_shared_bytes(), ctx.compute_capability() >= 90 && persistent_clusters(),
          ctx.cooperative_launch()};
}

std::optional<PersistentGeometry> persistent_one_wave(const Context& ctx, const PersistentDevice& dev,
                                                      PersistentCell cell, int64_t hidden, int64_t batch,
                                                      PersistentWeights exact) {
  const std::optional<PersistentGeometry> plan =
      persistent_plan(cell, static_cast<int>(hidden), static_cast<int>(batch), dev, {}, exact);
  // One wave: every block of the launch resident at once (a later wave would wait T steps; a
  // grid-wide barrier requires it); for clusters and grid-wide plans, as the device reports it
  // (clusters must fit whole into a GPC).
  if (!plan || static_cast<int>(plan->grid_x) > ctx.sm_count()) return std::nullopt;
  if (plan->cluster == 1) return plan;
  ctx.activate();
  const bool clusters = !plan->grid_sync;
  const int groups = static_cast<int>(plan->grid_x) / (clusters ? plan->cluster : 1);
  if (persistent_resident_groups(cell, *plan, dev) < groups) return std::nullopt;
  return plan;
}

Strategy RnnStack::strategy_for(int64_t batch, int64_t seq_len) const {
  if (m_strategy != Strategy::Auto) return m_strategy;
  if (seq_len >= 2 && m_wave.fits(m_ctx, m_device, persistent_cell(m_dims.cell), m_dims.hidden_size, batch, m_exact))
    return Strategy::Persistent;
  return gemm_step(batch, m_dims.gate_size()) ? Strategy::Gemm : Strategy::Step;
}

void RnnStack::forward(int64_t T, int64_t B, const float* x, const float* h0, const float* c0, float* output,
                       float* h_n, float* c_n) {
  if (pipelines(B, T)) {
    forward_pipelined(T, B, x, h0, c0, output, h_n, c_n);
    return;
  }
  const int64_t D = m_dims.num_directions(), L = m_dims.num_layers, H = m_dims.hidden_size;
  const float* in = x;
  for (int64_t l = 0; l < L; ++l) {
    float* out = l == L - 1 ? output : m_layer_buf[sz(l % 2)].data();
    for (int64_t d = 0; d < D; ++d) {
      const int64_t s = (l * D + d) * B * H;  // state slice of this layer and direction
      run_direction(l, d, T, B, in, out, h0 ? h0 + s : nullptr, c0 ? c0 + s : nullptr, h_n + s,
                    c_n ? c_n + s : nullptr);
    }
    in = out;
  }
}

PersistentRnnArgs RnnStack::persistent_args(const Layer& w, const float* gx, const float* h0, int64_t ld_h0, float* c,
                                            float* out, int64_t ld_out, int64_t steps, int64_t B, bool reverse) const {
  PersistentRnnArgs a;
  a.gx = gx;
  a.w_hh_t = w.w_hh_t.data();
  a.b_ih = w.b_ih.data();
  a.b_hh = w.b_hh.data();
  a.h0 = h0;
  a.ld_h0 = static_cast<int>(ld_h0);
  a.c = c;
  a.out = out;
  a.ld_out = static_cast<int>(ld_out);
  a.seq_len = static_cast<int>(steps);
  a.batch = static_cast<int>(B);
  a.hidden = static_cast<int>(m_dims.hidden_size);
  a.cell = persistent_cell(m_dims.cell);
  a.reverse = reverse;
  a.exact_weights = m_exact;
  return a;
}

void RnnStack::forward_pipelined(int64_t T, int64_t B, const float* x, const float* h0, const float* c0, float* output,
                                 float* h_n, float* c_n) {
  const int64_t L = m_dims.num_layers, G = m_dims.gate_size(), H = m_dims.hidden_size, C = pipeline_chunk(T);
  const bool lstm = m_dims.cell == CellType::Lstm;
  auto c_of = [&](int64_t l) { return m_c.data() + l * m_max_batch * H; };  // layer l's cell state [B, H]
  for (int64_t l = 0; lstm && l < L; ++l) {
    if (c0)
      copy(m_ctx, c_of(l), c0 + l * B * H, B * H);
    else
      zero(m_ctx, c_of(l), B * H);
  }
  // Layers 1 .. L-1 start after everything queued on the main stream so far (inputs, states).
  m_start.record(m_ctx);
  for (const auto& lane : m_lanes) m_start.wait(*lane);
  std::vector<const float*> h_prev(sz(L));  // each layer's h before its next chunk, rows of H
  for (int64_t l = 0; l < L; ++l) h_prev[sz(l)] = h0 ? h0 + l * B * H : m_zeros.data();
  try {
    // Chunk c of layer l is queued after chunk c of layer l − 1 (which it reads) on its own stream,
    // so layer l − 1 runs chunk c + 1 meanwhile. One event per layer suffices: each wait captures
    // the record made just before it in this order.
    for (int64_t t0 = 0; t0 < T; t0 += C) {
      const int64_t n = std::min(C, T - t0);
      for (int64_t l = 0; l < L; ++l) {
        const Context& lane = l == 0 ? m_ctx : *m_lanes[sz(l - 1)];
        if (l > 0) m_done[sz(l - 1)].wait(lane);
        const Layer& w = m_layers[sz(l)];
        const int64_t I = m_dims.layer_input_size(l);
        const float* in = l == 0 ? x : m_layer_buf[sz(l - 1)].data();
        float* out = l == L - 1 ? output : m_layer_buf[sz(l)].data();
        float* gx = m_gx.data() + l * m_pipe_chunk_max * m_max_batch * G;
        gemm_xwt(lane, n * B, G, I, in + t0 * B * I, I, w.w_ih.data(), gx, G, 0.0f);
        persistent_rnn(
            persistent_args(w, gx, h_prev[sz(l)], H, lstm ? c_of(l) : nullptr, out + t0 * B * H, H, n, B, false),
            m_device, lane.stream());
        h_prev[sz(l)] = out + (t0 + n - 1) * B * H;
        m_done[sz(l)].record(lane);
      }
    }
  } catch (...) {
    // The main stream still waits for everything the other layers queued (a record on each
    // layer's own stream covers work queued after its last chunk's record, too).
    for (int64_t l = 1; l < L; ++l) {
      try {
        m_done[sz(l)].record(*m_lanes[sz(l - 1)]);
        m_done[sz(l)].wait(m_ctx);
      } catch (const Error&) {
      }
    }
    throw;
  }
  for (int64_t l = 1; l < L; ++l) m_done[sz(l)].wait(m_ctx);
  for (int64_t l = 0; l < L; ++l) {
    copy_rows(m_ctx, h_n + l * B * H, H, h_prev[sz(l)], H, B, H);
    if (lstm && c_n) copy(m_ctx, c_n + l * B * H, c_of(l), B * H);
  }
}

void RnnStack::run_direction(int64_t l, int64_t d, int64_t T, int64_t B, const float* in, float* out, const float* h0,
                             const float* c0, float* h_n, float* c_n) {
  const int64_t D = m_dims.num_directions(), G = m_dims.gate_size(), H = m_dims.hidden_size;
  const int64_t I = m_dims.layer_input_size(l), ld_out = D * H;
  const bool lstm = m_dims.cell == CellType::Lstm, reverse = d == 1;
  const Layer& w = m_layers[sz(l * D + d)];
  if (lstm) {
    if (c0)
      copy(m_ctx, m_c.data(), c0, B * H);
    else
      zero(m_ctx, m_c.data(), B * H);
  }
  const float* h_prev = h0 ? h0 : m_zeros.data();
  int64_t ld_prev = H;
  const Strategy strategy = strategy_for(B, T);
  const bool persistent = strategy == Strategy::Persistent;
  const int64_t chunks = (T + m_chunk_steps - 1) / m_chunk_steps;
  for (int64_t ci = 0; ci < chunks; ++ci) {
    const int64_t t0 = (reverse ? chunks - 1 - ci : ci) * m_chunk_steps, n = std::min(m_chunk_steps, T - t0);
    gemm_xwt(m_ctx, n * B, G, I, in + t0 * B * I, I, w.w_ih.data(), m_gx.data(), G, 0.0f);
    if (persistent) {
      persistent_rnn(persistent_args(w, m_gx.data(), h_prev, ld_prev, lstm ? m_c.data() : nullptr,
                                     out + t0 * B * ld_out + d * H, ld_out, n, B, reverse),
                     m_device, m_ctx.stream());
      h_prev = out + (reverse ? t0 : t0 + n - 1) * B * ld_out + d * H;
      ld_prev = ld_out;
      continue;
    }
    for (int64_t step = 0; step < n; ++step) {
      const int64_t t = reverse ? t0 + n - 1 - step : t0 + step;
      float* h_out = out + t * B * ld_out + d * H;
      const float* gx = m_gx.data() + (t - t0) * B * G;
      // The fields every step kernel's arguments share.
      auto step_args = [&](auto a) {
        a.gx = gx;
        a.w_hh_t = w.w_hh_t.data();
        a.b_ih = w.b_ih.data();
        a.b_hh = w.b_hh.data();
        a.h_prev = h_prev;
        a.h_out = h_out;
        a.batch = static_cast<int>(B);
        a.hidden = static_cast<int>(H);
        a.ld_h_prev = static_cast<int>(ld_prev);
        a.ld_h_out = static_cast<int>(ld_out);
        return a;
      };
      if (strategy == Strategy::Gemm) {
        gemm_xwt(m_ctx, B, G, H, h_prev, ld_prev, w.w_hh.data(), m_gh.data(), G, 0.0f);
        CellGatesArgs a;
        a.gx = gx;
        a.gh = m_gh.data();
        a.b_ih = w.b_ih.data();
        a.b_hh = w.b_hh.data();
        a.h_prev = h_prev;
        a.ld_h_prev = static_cast<int>(ld_prev);
        a.c = lstm ? m_c.data() : nullptr;
        a.h_out = h_out;
        a.ld_h_out = static_cast<int>(ld_out);
        a.batch = static_cast<int>(B);
        a.hidden = static_cast<int>(H);
        a.cell = m_dims.cell;
        cell_gates(a, m_ctx.stream());
      } else if (lstm) {
        LstmCellStepArgs a = step_args(LstmCellStepArgs{});
        a.c_prev = m_c.data();
        a.c_out = m_c.data();
        lstm_cell_step(a, m_ctx.stream());
      } else if (m_dims.cell == CellType::Gru) {
        gru_cell_step(step_args(GruCellStepArgs{}), m_ctx.stream());
      } else {
        RnnCellStepArgs a = step_args(RnnCellStepArgs{});
        a.relu = m_dims.cell == CellType::RnnRelu;
        rnn_cell_step(a, m_ctx.stream());
      }
      h_prev = h_out;
      ld_prev = ld_out;
    }
  }
  copy_rows(m_ctx, h_n, H, h_prev, ld_prev, B, H);
  if (lstm && c_n) copy(m_ctx, c_n, m_c.data(), B * H);
}

}  // namespace rnnad::cuda
