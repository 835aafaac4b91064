// Kind "attention": encoder-decoder with additive attention reconstructing a window
// (Bahdanau et al., ICLR 2015; docs/models.md).
#include <algorithm>
#include <vector>

#include "rnnad/cpu/attention.h"
#include "runners.h"

namespace rnnad::detail {

namespace {

class AttentionRunner final : public Runner {
 public:
  AttentionRunner(const Model& m, int64_t max_batch, int64_t max_seq_len)
      : m_cfg(m.config().attention),
        m_enc(make_stack(m, m_cfg.encoder(), max_batch, max_seq_len)),
        m_dec(make_stack(m, m_cfg.decoder(), max_batch, 1)),
        m_out(make_linear(m, "output", true, max_batch)),
        m_attn(m.weight("attention.query.weight").values.data(), m.weight("attention.key.weight").values.data(),
               m.weight("attention.key.bias").values.data(), m.weight("attention.v.weight").values.data(),
               m_cfg.attention_size, m_cfg.hidden_size, m_cfg.hidden_size, max_batch, max_seq_len) {
    const int64_t L = m_cfg.num_layers, H = m_cfg.hidden_size, I = m_cfg.input_size;
    auto zeros = [](int64_t n) { return std::vector<float>(static_cast<std::size_t>(n), 0.0f); };
    m_enc_out = zeros(max_seq_len * max_batch * H);
    for (auto* b : {&m_h[0], &m_h[1], &m_c[0], &m_c[1]}) *b = zeros(L * max_batch * H);
    m_dec_in = zeros(max_batch * (I + H));
    m_dec_out = zeros(max_batch * H);
    m_weights = zeros(max_batch * max_seq_len);
  }

  void reconstruct(int64_t T, int64_t B, const float* x, float* recon, float* attn) override {
    const int64_t I = m_cfg.input_size, H = m_cfg.hidden_size, L = m_cfg.num_layers, W = I + H;
    int cur = 0;
    m_enc.forward(T, B, x, nullptr, nullptr, m_enc_out.data(), m_h[cur].data(), lstm() ? m_c[cur].data() : nullptr);
    m_attn.set_keys(T, B, m_enc_out.data());
    for (int64_t t = 0; t < T; ++t) {
      // Decoder input [prev | ctx]: prev = x'(t-1) (zeros at t = 0), ctx from the current top h.
      for (int64_t b = 0; b < B; ++b) {
        float* row = m_dec_in.data() + b * W;
        if (t == 0) std::fill_n(row, I, 0.0f);
        else std::copy_n(recon + ((t - 1) * B + b) * I, I, row);
      }
      float* weights = attn ? attn + t * B * T : m_weights.data();
      m_attn.attend(T, B, m_h[cur].data() + (L - 1) * B * H, H, m_enc_out.data(), weights, T, m_dec_in.data() + I, W);
      m_dec.forward(1, B, m_dec_in.data(), m_h[cur].data(), lstm() ? m_c[cur].data() : nullptr, m_dec_out.data(),
                    m_h[1 - cur].data(), lstm() ? m_c[1 - cur].data() : nullptr);
      cur = 1 - cur;
      m_out.apply(B, m_dec_out.data(), H, recon + t * B * I, I);
    }
  }

 private:
  bool lstm() const { return m_cfg.cell == CellType::Lstm; }

  AttentionConfig m_cfg;
  cpu::RnnStack m_enc, m_dec;
  cpu::Linear m_out;
  cpu::AdditiveAttention m_attn;
  std::vector<float> m_enc_out, m_h[2], m_c[2], m_dec_in, m_dec_out, m_weights;
};

}  // namespace

std::unique_ptr<Runner> make_attention_runner(const Model& m, int64_t max_batch, int64_t max_seq_len) {
  return std::make_unique<AttentionRunner>(m, max_batch, max_seq_len);
}

}  // namespace rnnad::detail
