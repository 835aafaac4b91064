// RnnStack: the Eigen forward pass of PyTorch's recurrent modules (see rnn_stack.h).
#include "rnnad/cpu/rnn_stack.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "layout.h"
#include "rnnad/cpu/activations.h"
#include "tiled_recurrence.h"

namespace rnnad::cpu {

namespace {

void fill_rows(float* dst, int64_t rows, const float* row, int64_t width) {
  for (int64_t r = 0; r < rows; ++r) std::memcpy(dst + r * width, row, static_cast<std::size_t>(width) * sizeof(float));
}

using detail::transposed;

void copy_rows(float* dst, int64_t ld_dst, const float* src, int64_t ld_src, int64_t rows, int64_t width) {
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(dst + r * ld_dst, src + r * ld_src, static_cast<std::size_t>(width) * sizeof(float));
}

}  // namespace

RnnStack::RnnStack(const RnnDims& dims, std::vector<RnnParams> params, int64_t max_batch, int64_t max_seq_len,
                   Kernel kernel, Team* team)
    : m_dims(dims),
      m_params(std::move(params)),
      m_max_batch(max_batch),
      m_max_seq_len(max_seq_len),
      // The Eigen kernel's plan; minimal (never run) when the tiled kernel takes every call.
      m_gemm_hh(uses_tiled(dims, kernel) ? 1 : std::max<int64_t>(max_batch, 1), dims.gate_size(), dims.output_size()) {
  const int64_t G = dims.gate_size(), H = dims.hidden_size, H_out = dims.output_size(), D = dims.num_directions();
  if (max_batch < 1 || max_seq_len < 1) throw std::invalid_argument("RnnStack: max_batch and max_seq_len must be >= 1");
  if (static_cast<int64_t>(m_params.size()) != dims.num_layers * D)
    throw std::invalid_argument("RnnStack: expected num_layers * num_directions parameter sets");
  const bool proj = dims.proj_size > 0;
  if (proj && dims.cell != CellType::Lstm) throw std::invalid_argument("RnnStack: proj_size is LSTM only");
  for (const auto& p : m_params)
    if (!p.weight_ih || !p.weight_hh || (proj && !p.weight_hr) || (!p.bias_ih != !p.bias_hh))
      throw std::invalid_argument("RnnStack: missing weight pointer");
  if (uses_tiled(dims, kernel)) {  // the Eigen kernel's weights and buffers would never be used
    m_tiled = std::make_unique<detail::TiledRecurrence>(dims, m_params, max_batch, team);
    m_params.clear();  // everything needed is copied: the caller's buffers may go away
    return;
  }

  m_chunk_steps = std::clamp<int64_t>(kProjectionChunkBytes / (max_batch * G * int64_t{sizeof(float)}), 1, max_seq_len);
  m_gemm_ih.emplace_back(m_chunk_steps * max_batch, G, dims.layer_input_size(0));
  if (dims.num_layers > 1) m_gemm_ih.emplace_back(m_chunk_steps * max_batch, G, dims.layer_input_size(1));
  if (proj) m_gemm_hr.emplace_back(max_batch, dims.proj_size, H);

  // Biases folded once: the input projection starts from b_ih + b_hh (LSTM, RNN) or b_ih (GRU,
  // whose b_hn must stay inside r * (W_hn h + b_hn)); the GRU recurrent product starts from b_hh.
  for (std::size_t i = 0; i < m_params.size(); ++i) {
    const RnnParams& p = m_params[i];
    const int64_t layer = static_cast<int64_t>(i) / D;
    m_weights.push_back({transposed(p.weight_ih, G, dims.layer_input_size(layer)), transposed(p.weight_hh, G, H_out),
                         proj ? transposed(p.weight_hr, dims.proj_size, H) : std::vector<float>()});
    std::vector<float> bx(static_cast<std::size_t>(G), 0.0f), bh(static_cast<std::size_t>(G), 0.0f);
    if (p.bias_ih) {
      for (int64_t g = 0; g < G; ++g) {
        bx[g] = p.bias_ih[g];
        if (dims.cell == CellType::Gru) bh[g] = p.bias_hh[g];
        else bx[g] += p.bias_hh[g];
      }
    }
    m_bias_x.push_back(std::move(bx));
    m_bias_h.push_back(std::move(bh));
  }
  m_params.clear();  // everything needed is copied: the caller's buffers may go away

  m_gx.resize(static_cast<std::size_t>(m_chunk_steps * max_batch * G));
  if (dims.cell == CellType::Gru) m_gh.resize(static_cast<std::size_t>(max_batch * G));
  if (dims.cell == CellType::Lstm) m_c.resize(static_cast<std::size_t>(max_batch * H));
  if (proj) m_m.resize(static_cast<std::size_t>(max_batch * H));
  m_zeros.assign(static_cast<std::size_t>(max_batch * H_out), 0.0f);
  const auto layer_floats = static_cast<std::size_t>(max_seq_len * max_batch * D * H_out);
  if (dims.num_layers > 1) m_layer_buf[0].resize(layer_floats);
  if (dims.num_layers > 2) m_layer_buf[1].resize(layer_floats);
}

bool RnnStack::uses_tiled(const RnnDims& dims, Kernel kernel) {
  return kernel == Kernel::Auto && detail::TiledRecurrence::supports(dims);
}

RnnStack::~RnnStack() = default;
RnnStack::RnnStack(RnnStack&&) noexcept = default;
RnnStack& RnnStack::operator=(RnnStack&&) noexcept = default;

int64_t RnnStack::workspace_bytes() const {
  std::size_t n = m_gx.size() + m_gh.size() + m_c.size() + m_m.size() + m_zeros.size() + m_layer_buf[0].size() +
                  m_layer_buf[1].size();
  return static_cast<int64_t>(n * sizeof(float)) + (m_tiled ? m_tiled->workspace_bytes() : 0);
}

void RnnStack::forward(int64_t seq_len, int64_t batch, const float* x, const float* h0, const float* c0,
                       float* output, float* h_n, float* c_n) {
  if (m_tiled) {
    m_tiled->forward(seq_len, batch, x, h0, c0, output, h_n, c_n);
    return;
  }
  const int64_t L = m_dims.num_layers, D = m_dims.num_directions();
  const int64_t H = m_dims.hidden_size, H_out = m_dims.output_size();
  for (int64_t l = 0; l < L; ++l) {
    // Layer l reads the input or the previous layer's [fwd, rev] sequence and writes the next
    // buffer (ping-pong) or, for the last layer, the caller's output.
    const float* in = l == 0 ? x : m_layer_buf[(l - 1) % 2].data();
    float* out = l == L - 1 ? output : m_layer_buf[l % 2].data();
    for (int64_t d = 0; d < D; ++d) {
      const int64_t pd = l * D + d;
      run_direction(l, d, seq_len, batch, in, out, h0 ? h0 + pd * batch * H_out : nullptr,
                    c0 ? c0 + pd * batch * H : nullptr, h_n + pd * batch * H_out, c_n ? c_n + pd * batch * H : nullptr);
    }
  }
}

void RnnStack::run_direction(int64_t layer, int64_t dir, int64_t seq_len, int64_t batch, const float* in,
                             float* out, const float* h0, const float* c0, float* h_n, float* c_n) {
  const int64_t G = m_dims.gate_size(), H = m_dims.hidden_size, H_out = m_dims.output_size();
  const int64_t I = m_dims.layer_input_size(layer), ld_out = m_dims.num_directions() * H_out;
  const int64_t pd = layer * m_dims.num_directions() + dir;
  const Weights& w = m_weights[pd];
  const GemmPlan& gemm_ih = m_gemm_ih[layer == 0 ? 0 : 1];

  if (m_dims.cell == CellType::Lstm) {
    if (c0) std::memcpy(m_c.data(), c0, static_cast<std::size_t>(batch * H) * sizeof(float));
    else std::fill_n(m_c.data(), batch * H, 0.0f);
  }
  const float* h_prev = h0 ? h0 : m_zeros.data();
  int64_t ld_prev = H_out;

  for (int64_t done = 0; done < seq_len;) {
    const int64_t n = std::min(m_chunk_steps, seq_len - done);
    // The reverse direction walks chunks from the end of the sequence.
    const int64_t t0 = dir == 0 ? done : seq_len - done - n;
    fill_rows(m_gx.data(), n * batch, m_bias_x[pd].data(), G);
    gemm_ih.run(n * batch, in + t0 * batch * I, I, w.ih_t.data(), G, m_gx.data(), G);
    for (int64_t k = 0; k < n; ++k) {
      const int64_t t = dir == 0 ? t0 + k : t0 + n - 1 - k;
      float* h_t = out + t * batch * ld_out + dir * H_out;
      step_cell(batch, m_gx.data() + (t - t0) * batch * G, h_prev, ld_prev, m_c.data(), h_t, ld_out, pd);
      h_prev = h_t;
      ld_prev = ld_out;
    }
    done += n;
  }
  copy_rows(h_n, H_out, h_prev, ld_prev, batch, H_out);
  if (c_n && m_dims.cell == CellType::Lstm) std::memcpy(c_n, m_c.data(), static_cast<std::size_t>(batch * H) * sizeof(float));
}

// One time step for `batch` rows: gx holds the input projection plus folded biases [batch, G];
// h_prev [batch, H_out] with row stride ld_prev; writes h_t rows (stride ld_out) and c in place.
void RnnStack::step_cell(int64_t batch, float* gx, const float* h_prev, int64_t ld_prev, float* c, float* h_out,
                         int64_t ld_out, int64_t pd) {
  const int64_t G = m_dims.gate_size(), H = m_dims.hidden_size, H_out = m_dims.output_size();
  const Weights& w = m_weights[pd];
  const bool zero_state = h_prev == m_zeros.data();  // W_hh * 0 contributes nothing

  switch (m_dims.cell) {
    case CellType::RnnTanh:
    case CellType::RnnRelu: {
      if (!zero_state) m_gemm_hh.run(batch, h_prev, ld_prev, w.hh_t.data(), G, gx, G);
      const bool relu = m_dims.cell == CellType::RnnRelu;
      for (int64_t b = 0; b < batch; ++b) {
        const float* g = gx + b * G;
        float* h = h_out + b * ld_out;
        if (relu)
          for (int64_t j = 0; j < H; ++j) h[j] = g[j] < 0.0f ? 0.0f : g[j];  // NaN stays NaN, as in PyTorch
        else
          for (int64_t j = 0; j < H; ++j) h[j] = tanh_f32(g[j]);
      }
      return;
    }
    case CellType::Lstm: {
      if (!zero_state) m_gemm_hh.run(batch, h_prev, ld_prev, w.hh_t.data(), G, gx, G);
      const bool proj = m_dims.proj_size > 0;
      for (int64_t b = 0; b < batch; ++b) {
        const float* g = gx + b * G;
        float* cb = c + b * H;
        // With proj_size, o * tanh(c') goes to m_m and is projected below; else it is h'.
        lstm_update(g, H, cb, proj ? m_m.data() + b * H : h_out + b * ld_out, H);
      }
      if (proj) {
        for (int64_t b = 0; b < batch; ++b) std::fill_n(h_out + b * ld_out, H_out, 0.0f);
        m_gemm_hr[0].run(batch, m_m.data(), H, w.hr_t.data(), H_out, h_out, ld_out);
      }
      return;
    }
    case CellType::Gru: {
      fill_rows(m_gh.data(), batch, m_bias_h[pd].data(), G);
      if (!zero_state) m_gemm_hh.run(batch, h_prev, ld_prev, w.hh_t.data(), G, m_gh.data(), G);
      for (int64_t b = 0; b < batch; ++b) {
        const float* gxb = gx + b * G;
        const float* ghb = m_gh.data() + b * G;
        const float* hp = h_prev + b * ld_prev;
        float* h = h_out + b * ld_out;
        for (int64_t j = 0; j < H; ++j) {
          const float r = sigmoid_f32(gxb[j] + ghb[j]);
          const float z = sigmoid_f32(gxb[H + j] + ghb[H + j]);
          const float nn = tanh_f32(gxb[2 * H + j] + r * ghb[2 * H + j]);
          h[j] = (1.0f - z) * nn + z * hp[j];
        }
      }
      return;
    }
  }
}

}  // namespace rnnad::cpu
