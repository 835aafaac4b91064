// Additive (Bahdanau) attention on a CUDA device, same contract as cpu::AdditiveAttention:
//   e(j) = v . tanh(W_q s + W_k h(j) + b_k),  a = softmax_j(e),  ctx = sum_j a(j) h(j)
// (Bahdanau, Cho, Bengio, ICLR 2015). Projections by cuBLAS, the rest by kernels/attention.cuh.
#pragma once

#include <cstdint>

#include "rnnad/cuda/context.h"
#include "rnnad/cuda/linear.h"

namespace rnnad::cuda {

/// Attention with device workspace for batch <= max_batch and seq_len <= max_seq_len; the calls
/// only queue work on the stream. Not thread-safe.
class AdditiveAttention {
 public:
  /// query_weight [A, Hq] (no bias), key_weight [A, Hk], key_bias [A], v_weight [1, A]; host
  /// pointers in PyTorch nn.Linear layouts, copied to the device.
  AdditiveAttention(const Context& ctx, const float* query_weight, const float* key_weight, const float* key_bias,
                    const float* v_weight, int64_t attention_size, int64_t query_size, int64_t key_size,
                    int64_t max_batch, int64_t max_seq_len);

  /// Projects the encoder outputs of a window once: enc [seq_len, batch, Hk] (device).
  void set_keys(int64_t seq_len, int64_t batch, const float* enc);

  /// One decoder step (device pointers): s [batch, ld_s]; weights [batch, ld_w]; ctx
  /// [batch, ld_ctx]. `enc` must be the array given to set_keys.
  void attend(int64_t seq_len, int64_t batch, const float* s, int64_t ld_s, const float* enc, float* weights,
              int64_t ld_w, float* ctx, int64_t ld_ctx);

 private:
  const Context& m_ctx;
  int64_t m_a, m_hk;
  Linear m_query, m_key;
  DeviceBuffer m_v, m_keys, m_q;
};

}  // namespace rnnad::cuda
