// Kind "attention": encoder-decoder with additive attention reconstructing a window
// (Bahdanau et al., ICLR 2015; docs/models.md). Internal; backend interface in cpu_backend.h.
#pragma once

#include "runner.h"

namespace rnnad::detail {

template <class Be>
class AttentionGraph final : public Runner {
 public:
  AttentionGraph(const Be& be, const Model& m, int64_t max_batch, int64_t max_seq_len)
      : m_be(be),
        m_cfg(m.config().attention),
        m_enc(be.stack(m, m_cfg.encoder(), max_batch, max_seq_len)),
        m_dec(be.stack(m, m_cfg.decoder(), max_batch, 1)),
        m_out(be.linear(m, "output", true, max_batch)),
        m_attn(be.attention(m, m_cfg, max_batch, max_seq_len)) {
    const int64_t L = m_cfg.num_layers, H = m_cfg.hidden_size, I = m_cfg.input_size;
    m_enc_out = be.buffer(max_seq_len * max_batch * H);
    for (int i = 0; i < 2; ++i) {
      m_h[i] = be.buffer(L * max_batch * H);
      m_c[i] = be.buffer(L * max_batch * H);
    }
    m_dec_in = be.buffer(max_batch * (I + H));
    m_dec_out = be.buffer(max_batch * H);
    m_weights = be.buffer(max_batch * max_seq_len);
  }

  void reconstruct(int64_t T, int64_t B, const float* x, float* recon, float* attn) override {
    const int64_t I = m_cfg.input_size, H = m_cfg.hidden_size, L = m_cfg.num_layers, W = I + H;
    int cur = 0;
    m_enc.forward(T, B, x, nullptr, nullptr, m_enc_out.data(), m_h[cur].data(), lstm() ? m_c[cur].data() : nullptr);
    m_attn.set_keys(T, B, m_enc_out.data());
    for (int64_t t = 0; t < T; ++t) {
      // Decoder input [prev | ctx]: prev = x'(t-1) (zeros at t = 0), ctx from the current top h.
      if (t == 0) m_be.zero_rows(m_dec_in.data(), W, B, I);
      else m_be.copy_rows(m_dec_in.data(), W, recon + (t - 1) * B * I, I, B, I);
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

  Be m_be;
  AttentionConfig m_cfg;
  typename Be::Stack m_enc, m_dec;
  typename Be::Linear m_out;
  typename Be::Attention m_attn;
  typename Be::Buffer m_enc_out, m_h[2], m_c[2], m_dec_in, m_dec_out, m_weights;
};

}  // namespace rnnad::detail
