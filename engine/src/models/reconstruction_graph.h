// Kind "reconstruction": encoder-decoder fed its own outputs (docs/models.md; EncDec-AD,
// Malhotra et al. 2016, arXiv 1607.00148). Internal; backend interface in cpu_backend.h.
#pragma once

#include <optional>

#include "runner.h"

namespace rnnad::detail {

template <class Be>
class ReconstructionGraph final : public Runner {
 public:
  ReconstructionGraph(const Be& be, const Model& m, int64_t max_batch, int64_t max_seq_len)
      : m_be(be),
        m_cfg(m.config().reconstruction),
        m_enc(be.stack(m, m_cfg.encoder(), max_batch, max_seq_len)),
        m_dec(be.stack(m, m_cfg.decoder(), max_batch, 1)),
        m_out(be.linear(m, "output", true, max_batch)),
        m_fused(be.feedback_decoder(m, m_cfg.decoder(), "output", max_batch, max_seq_len)) {
    const int64_t L = m_cfg.num_layers, H = m_cfg.hidden_size, D = m_cfg.bidirectional_encoder ? 2 : 1;
    if (m_cfg.bidirectional_encoder) {
      m_bridge_h.emplace(be.linear(m, "bridge_h", true, L * max_batch));
      if (lstm()) m_bridge_c.emplace(be.linear(m, "bridge_c", true, L * max_batch));
      m_cat = be.buffer(L * max_batch * 2 * H);
    }
    m_enc_out = be.buffer(max_seq_len * max_batch * D * H);
    m_enc_h = be.buffer(L * D * max_batch * H);
    m_enc_c = be.buffer(L * D * max_batch * H);
    for (int i = 0; i < 2; ++i) {
      m_h[i] = be.buffer(L * max_batch * H);
      m_c[i] = be.buffer(L * max_batch * H);
    }
    m_dec_out = be.buffer(max_batch * H);
    m_zero_input = be.buffer(max_batch * m_cfg.input_size);
  }

  void reconstruct(int64_t T, int64_t B, const float* x, float* recon, float*) override {
    const int64_t I = m_cfg.input_size, H = m_cfg.hidden_size, L = m_cfg.num_layers;
    m_enc.forward(T, B, x, nullptr, nullptr, m_enc_out.data(), m_enc_h.data(), lstm() ? m_enc_c.data() : nullptr);
    init_decoder_state(B);
    int cur = 0;
    // One decoder step from `in` [B, I]; writes the reconstructed row block y [B, I].
    auto step = [&](const float* in, float* y) {
      m_dec.forward(1, B, in, m_h[cur].data(), lstm() ? m_c[cur].data() : nullptr, m_dec_out.data(),
                    m_h[1 - cur].data(), lstm() ? m_c[1 - cur].data() : nullptr);
      cur = 1 - cur;
      m_out.apply(B, m_dec_out.data(), H, y, I);  // dec_out [1, B, H] is the top layer's h
    };
    // The folded decoder (CUDA, where eligible): all remaining steps in one launch with the
    // feedback folded into the recurrence, then their reconstructions in one GEMM.
    auto fused = [&](int64_t steps, bool reverse, float* y) {
      if (!m_fused || !m_fused->eligible(B, steps)) return false;
      m_fused->run(steps, B, m_h[cur].data(), lstm() ? m_c[cur].data() : nullptr, reverse);
      m_out.apply(steps * B, m_fused->outputs(), H, y, I);
      return true;
    };
    if (m_cfg.decode == ReconstructionConfig::Decode::Reverse) {
      // x'(T-1) straight from the encoder state, then backwards, each step fed x'(i).
      m_out.apply(B, m_h[cur].data() + (L - 1) * B * H, H, recon + (T - 1) * B * I, I);
      if (fused(T - 1, true, recon)) return;
      for (int64_t i = T - 1; i >= 1; --i) step(recon + i * B * I, recon + (i - 1) * B * I);
    } else {
      step(m_zero_input.data(), recon);  // x'(0) from a zero input, then each step fed x'(t-1)
      if (fused(T - 1, false, recon + B * I)) return;
      for (int64_t t = 1; t < T; ++t) step(recon + (t - 1) * B * I, recon + t * B * I);
    }
  }

 private:
  bool lstm() const { return m_cfg.cell == CellType::Lstm; }

  // Decoder state [L, B, H] in m_h[0] / m_c[0]: the encoder's final state, or per layer the
  // bridge of its concatenated [forward, reverse] final states.
  void init_decoder_state(int64_t B) {
    const int64_t L = m_cfg.num_layers, H = m_cfg.hidden_size;
    if (!m_cfg.bidirectional_encoder) {
      m_be.copy(m_h[0].data(), m_enc_h.data(), L * B * H);
      if (lstm()) m_be.copy(m_c[0].data(), m_enc_c.data(), L * B * H);
      return;
    }
    // Row (l, b) of m_cat [L * B, 2H] = [finals(2l, b) | finals(2l + 1, b)].
    auto bridge = [&](const typename Be::Buffer& finals, const typename Be::Linear& lin, typename Be::Buffer& dst) {
      for (int64_t l = 0; l < L; ++l) {
        float* rows = m_cat.data() + l * B * 2 * H;
        m_be.copy_rows(rows, 2 * H, finals.data() + (2 * l) * B * H, H, B, H);
        m_be.copy_rows(rows + H, 2 * H, finals.data() + (2 * l + 1) * B * H, H, B, H);
      }
      lin.apply(L * B, m_cat.data(), 2 * H, dst.data(), H);
    };
    bridge(m_enc_h, *m_bridge_h, m_h[0]);
    if (lstm()) bridge(m_enc_c, *m_bridge_c, m_c[0]);
  }

  Be m_be;
  ReconstructionConfig m_cfg;
  typename Be::Stack m_enc, m_dec;
  typename Be::Linear m_out;
  std::optional<typename Be::FeedbackDecoder> m_fused;  // the folded decoder (CUDA, 1 layer)
  std::optional<typename Be::Linear> m_bridge_h, m_bridge_c;
  typename Be::Buffer m_enc_out, m_enc_h, m_enc_c, m_cat, m_h[2], m_c[2], m_dec_out, m_zero_input;
};

}  // namespace rnnad::detail
