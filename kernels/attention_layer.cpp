// cuda::AdditiveAttention (rnnad/cuda/attention.h).
#include "rnnad/cuda/attention.h"

#include "rnnad/cuda/attention_kernel.h"
#include "rnnad/cuda/ops.h"

namespace rnnad::cuda {

AdditiveAttention::AdditiveAttention(const Context& ctx, const float* query_weight, const float* key_weight,
                                     const float* key_bias, const float* v_weight, int64_t attention_size,
                                     int64_t query_size, int64_t key_size, int64_t max_batch, int64_t max_seq_len)
    : m_ctx(ctx),
      m_a(attention_size),
      m_hk(key_size),
      m_query(ctx, query_weight, nullptr, attention_size, query_size),
      m_key(ctx, key_weight, key_bias, attention_size, key_size),
      m_v(upload(v_weight, static_cast<std::size_t>(attention_size))),
      m_keys(static_cast<std::size_t>(max_seq_len * max_batch * attention_size)),
      m_q(static_cast<std::size_t>(max_batch * attention_size)) {}

void AdditiveAttention::set_keys(int64_t seq_len, int64_t batch, const float* enc) {
  m_key.apply(seq_len * batch, enc, m_hk, m_keys.data(), m_a);
}

void AdditiveAttention::attend(int64_t seq_len, int64_t batch, const float* s, int64_t ld_s, const float* enc,
                               float* weights, int64_t ld_w, float* ctx, int64_t ld_ctx) {
  m_query.apply(batch, s, ld_s, m_q.data(), m_a);
  AttentionArgs a;
  a.keys = m_keys.data();
  a.q = m_q.data();
  a.v = m_v.data();
  a.enc = enc;
  a.weights = weights;
  a.ctx = ctx;
  a.seq_len = static_cast<int>(seq_len);
  a.batch = static_cast<int>(batch);
  a.attention_size = static_cast<int>(m_a);
  a.key_size = static_cast<int>(m_hk);
  a.ld_w = static_cast<int>(ld_w);
  a.ld_ctx = static_cast<int>(ld_ctx);
  attention_step(a, m_ctx.stream());
}

}  // namespace rnnad::cuda
