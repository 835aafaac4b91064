// Kind "prediction": stacked forecaster with a linear head, windowed (Telemanom, Hundman et al.
// KDD 2018) or stateful (LSTM-AD, Malhotra et al. ESANN 2015); docs/models.md.
#include <algorithm>
#include <vector>

#include "runners.h"

namespace rnnad::detail {

namespace {

class PredictionRunner final : public Runner {
 public:
  PredictionRunner(const Model& m, int64_t max_batch, int64_t max_seq_len)
      : m_cfg(m.config().prediction),
        m_rnn(make_stack(m, m_cfg.rnn(), max_batch, max_seq_len)),
        m_head(make_linear(m, "head", true,
                           m_cfg.state == PredictionConfig::State::Stateful ? max_batch * max_seq_len : max_batch)),
        m_max_seq_len(max_seq_len) {
    const int64_t LBH = m_cfg.num_layers * max_batch * m_cfg.hidden_size;
    m_out.resize(static_cast<std::size_t>(max_seq_len * max_batch * m_cfg.hidden_size));
    for (auto* b : {&m_h[0], &m_h[1], &m_c[0], &m_c[1]}) b->assign(static_cast<std::size_t>(LBH), 0.0f);
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
    if (h) std::copy_n(h, LBH, m_h[0].data());
    else std::fill_n(m_h[0].data(), LBH, 0.0f);
    if (lstm()) {
      if (c) std::copy_n(c, LBH, m_c[0].data());
      else std::fill_n(m_c[0].data(), LBH, 0.0f);
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
    if (h) std::copy_n(m_h[cur].data(), LBH, h);
    if (c && lstm()) std::copy_n(m_c[cur].data(), LBH, c);
  }

 private:
  bool lstm() const { return m_cfg.cell == CellType::Lstm; }

  PredictionConfig m_cfg;
  cpu::RnnStack m_rnn;
  cpu::Linear m_head;
  int64_t m_max_seq_len;
  std::vector<float> m_out, m_h[2], m_c[2];
};

}  // namespace

std::unique_ptr<Runner> make_prediction_runner(const Model& m, int64_t max_batch, int64_t max_seq_len) {
  return std::make_unique<PredictionRunner>(m, max_batch, max_seq_len);
}

}  // namespace rnnad::detail
