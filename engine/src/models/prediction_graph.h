// Kind "prediction": stacked forecaster with a linear head, windowed (Telemanom, Hundman et al.
// KDD 2018) or stateful (LSTM-AD, Malhotra et al. ESANN 2015); docs/models.md. Internal; backend
// interface in cpu_backend.h.
#pragma once

#include <algorithm>

#include "runner.h"

namespace rnnad::detail {

template <class Be>
class PredictionGraph final : public Runner {
 public:
  PredictionGraph(const Be& be, const Model& m, int64_t max_batch, int64_t max_seq_len)
      : m_be(be),
        m_cfg(m.config().prediction),
        m_rnn(be.stack(m, m_cfg.rnn(), max_batch, max_seq_len)),
        m_head(be.linear(m, "head", true,
                         m_cfg.state == PredictionConfig::State::Stateful ? max_batch * max_seq_len : max_batch)),
        m_max_seq_len(max_seq_len),
        m_out(be.buffer(max_seq_len * max_batch * m_cfg.hidden_size)) {
    const int64_t LBH = m_cfg.num_layers * max_batch * m_cfg.hidden_size;
    for (int i = 0; i < 2; ++i) {
      m_h[i] = be.buffer(LBH);
      m_c[i] = be.buffer(LBH);
    }
  }

  void predict(int64_t T, int64_t B, const float* x, float* pred) override {
    const int64_t H = m_cfg.hidden_size;
    m_rnn.forward(T, B, x, nullptr, nullptr, m_out.data(), m_h[0].data(), lstm() ? m_c[0].data() : nullptr);
    m_head.apply(B, m_out.data() + (T - 1) * B * H, H, pred, m_cfg.prediction_size());
  }

  void predict_stateful(int64_t N, int64_t B, const float* x, float* pred, float* h, float* c) override {
    const int64_t I = m_cfg.input_size, H = m_cfg.hidden_size, P = m_cfg.prediction_size();
    const int64_t LBH = m_cfg.num_layers * B * H;
    int cur = 0;
    if (h) m_be.copy(m_h[0].data(), h, LBH);
    else m_be.zero(m_h[0].data(), LBH);
    if (lstm()) {
      if (c) m_be.copy(m_c[0].data(), c, LBH);
      else m_be.zero(m_c[0].data(), LBH);
    }
    // Chunks of up to max_seq_len steps, the state carried from one chunk to the next.
    for (int64_t start = 0; start < N;) {
      const int64_t n = std::min(m_max_seq_len, N - start);
      m_rnn.forward(n, B, x + start * B * I, m_h[cur].data(), lstm() ? m_c[cur].data() : nullptr, m_out.data(),
                    m_h[1 - cur].data(), lstm() ? m_c[1 - cur].data() : nullptr);
      cur = 1 - cur;
      m_head.apply(n * B, m_out.data(), H, pred + start * B * P, P);
      start += n;
    }
    if (h) m_be.copy(h, m_h[cur].data(), LBH);
    if (c && lstm()) m_be.copy(c, m_c[cur].data(), LBH);
  }

 private:
  bool lstm() const { return m_cfg.cell == CellType::Lstm; }

  Be m_be;
  PredictionConfig m_cfg;
  typename Be::Stack m_rnn;
  typename Be::Linear m_head;
  int64_t m_max_seq_len;
  typename Be::Buffer m_out, m_h[2], m_c[2];
};

}  // namespace rnnad::detail
