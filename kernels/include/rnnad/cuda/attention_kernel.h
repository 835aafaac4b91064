// Additive (Bahdanau) attention scores, softmax and context for one decoder step: argument struct,
// geometry, checks and launcher. Plain C++17, no CUDA header (rules: docs/kernels.md). Kernel
// body: kernels/attention.cuh. The projections it reads (keys = enc W_k^T + b_k once per window,
// q = s W_q^T per step) are cuBLAS GEMMs done by cuda::AdditiveAttention.
#pragma once

#include <string>

#include "rnnad/error.h"

struct CUstream_st;

namespace rnnad::cuda {

inline constexpr int kAttentionThreads = 128;  ///< threads per block (a power of two)

/// For each batch row b (T = seq_len, A = attention_size, Hk = key_size), device fp32:
///   e(j) = sum_a v[a] * tanh(q[b, a] + keys[j, b, a]),  w = softmax_j(e) (maximum subtracted),
///   ctx[b, i] = sum_j w(j) * enc[j, b, i].
/// keys [T, B, A], q [B, A], v [A], enc [T, B, Hk] contiguous; weights [B, ld_w] (ld_w >= T),
/// ctx [B, ld_ctx] (ld_ctx >= Hk). weights and ctx must not overlap the inputs.
struct AttentionArgs {
  const float* keys = nullptr;
  const float* q = nullptr;
  const float* v = nullptr;
  const float* enc = nullptr;
  float* weights = nullptr;
  float* ctx = nullptr;
  int seq_len = 0;
  int batch = 0;
  int attention_size = 0;
  int key_size = 0;
  int ld_w = 0;
  int ld_ctx = 0;
};

/// Geometry: grid (batch), block (128): block b owns batch row b.
inline unsigned attention_grid(const AttentionArgs& a) { return static_cast<unsigned>(a.batch); }

/// Throws ShapeError naming the argument when `a` breaks the contract above.
inline void check_attention_args(const AttentionArgs& a) {
  if (a.seq_len < 1 || a.batch < 1 || a.attention_size < 1 || a.key_size < 1)
    throw ShapeError("attention: seq_len, batch, attention_size and key_size must be >= 1 (got " +
                     std::to_string(a.seq_len) + ", " + std::to_string(a.batch) + ", " +
                     std::to_string(a.attention_size) + ", " + std::to_string(a.key_size) + ")");
  if (a.ld_w < a.seq_len || a.ld_ctx < a.key_size)
    throw ShapeError("attention: row strides must cover a row (ld_w " + std::to_string(a.ld_w) + " < seq_len " +
                     std::to_string(a.seq_len) + " or ld_ctx " + std::to_string(a.ld_ctx) + " < key_size " +
                     std::to_string(a.key_size) + ")");
  if (!a.keys || !a.q || !a.v || !a.enc || !a.weights || !a.ctx)
    throw ShapeError("attention: keys, q, v, enc, weights and ctx must not be null");
}

/// Launches one step on `stream`; asynchronous. Throws ShapeError before launching, CudaError
/// when the launch fails.
void attention_step(const AttentionArgs& args, CUstream_st* stream);

}  // namespace rnnad::cuda
