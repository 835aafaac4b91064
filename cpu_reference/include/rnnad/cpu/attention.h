// Eigen implementation of additive (Bahdanau) attention over encoder outputs:
//   e(j) = v . tanh(W_q s + W_k h(j) + b_k),  a = softmax_j(e),  ctx = sum_j a(j) h(j)
// (Bahdanau, Cho, Bengio, ICLR 2015; docs/models.md "attention").
#pragma once

#include <cstdint>
#include <vector>

#include "rnnad/cpu/linear.h"

namespace rnnad::cpu {

/// Additive attention with workspace for batch <= max_batch and seq_len <= max_seq_len; no
/// allocation after construction. Not thread-safe.
class AdditiveAttention {
 public:
  /// query_weight [A, Hq] (no bias), key_weight [A, Hk], key_bias [A], v_weight [1, A] (no bias);
  /// PyTorch nn.Linear layouts, copied.
  AdditiveAttention(const float* query_weight, const float* key_weight, const float* key_bias, const float* v_weight,
                    int64_t attention_size, int64_t query_size, int64_t key_size, int64_t max_batch,
                    int64_t max_seq_len);

  /// Projects the encoder outputs once per window: enc [seq_len, batch, Hk] (time-major).
  void set_keys(int64_t seq_len, int64_t batch, const float* enc);

  /// One decoder step: query s [batch, Hq] (row stride ld_s); writes the attention weights
  /// [batch, seq_len] (row stride ld_w) and the context sum_j a(j) enc(j) [batch, Hk] (row
  /// stride ld_ctx). `enc` must be the array given to set_keys. Softmax subtracts the maximum,
  /// so it is exact for any score range.
  void attend(int64_t seq_len, int64_t batch, const float* s, int64_t ld_s, const float* enc, float* weights,
              int64_t ld_w, float* ctx, int64_t ld_ctx);

 private:
  int64_t m_a, m_hk;
  Linear m_query, m_key;
  std::vector<float> m_v, m_keys, m_q;
};

}  // namespace rnnad::cpu
