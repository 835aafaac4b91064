#include "rnnad/cpu/attention.h"

#include <algorithm>

#include "rnnad/cpu/activations.h"

namespace rnnad::cpu {

AdditiveAttention::AdditiveAttention(const float* query_weight, const float* key_weight, const float* key_bias,
                                     const float* v_weight, int64_t attention_size, int64_t query_size,
                                     int64_t key_size, int64_t max_batch, int64_t max_seq_len)
    : m_a(attention_size),
      m_hk(key_size),
      m_query(query_weight, nullptr, attention_size, query_size, max_batch),
      m_key(key_weight, key_bias, attention_size, key_size, max_batch * max_seq_len),
      m_v(v_weight, v_weight + attention_size),
      m_keys(static_cast<std::size_t>(max_seq_len * max_batch * attention_size)),
      m_q(static_cast<std::size_t>(max_batch * attention_size)) {}

void AdditiveAttention::set_keys(int64_t seq_len, int64_t batch, const float* enc) {
  m_key.apply(seq_len * batch, enc, m_hk, m_keys.data(), m_a);
}

void AdditiveAttention::attend(int64_t seq_len, int64_t batch, const float* s, int64_t ld_s, const float* enc,
                               float* weights, int64_t ld_w, float* ctx, int64_t ld_ctx) {
  m_query.apply(batch, s, ld_s, m_q.data(), m_a);
  const int64_t A = m_a, Hk = m_hk;
  for (int64_t b = 0; b < batch; ++b) {
    const float* q = m_q.data() + b * A;
    float* w = weights + b * ld_w;
    float max_e = -3.4e38f;
    for (int64_t j = 0; j < seq_len; ++j) {
      const float* k = m_keys.data() + (j * batch + b) * A;
      float e = 0.0f;
      for (int64_t a = 0; a < A; ++a) e += m_v[static_cast<std::size_t>(a)] * tanh_f32(q[a] + k[a]);
      w[j] = e;
      max_e = std::max(max_e, e);
    }
    float sum = 0.0f;
    for (int64_t j = 0; j < seq_len; ++j) {
      w[j] = exp_f32(w[j] - max_e);
      sum += w[j];
    }
    const float inv = 1.0f / sum;  // sum >= 1: the maximum term is exp(0)
    float* c = ctx + b * ld_ctx;
    std::fill_n(c, Hk, 0.0f);
    for (int64_t j = 0; j < seq_len; ++j) {
      w[j] *= inv;
      const float* h = enc + (j * batch + b) * Hk;
      for (int64_t i = 0; i < Hk; ++i) c[i] += w[j] * h[i];
    }
  }
}

}  // namespace rnnad::cpu
