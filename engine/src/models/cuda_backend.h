// The CUDA backend of the model graphs (internal; interface described in cpu_backend.h): device
// memory, the ops of kernels/ (cuBLAS GEMMs, fused cell kernels, attention), all queued in order
// on the context's stream.
#pragma once

#include <optional>
#include <string>

#include "rnnad/cuda/attention.h"
#include "rnnad/cuda/feedback_decoder.h"
#include "rnnad/cuda/linear.h"
#include "rnnad/cuda/ops.h"
#include "rnnad/cuda/rnn_stack.h"
#include "runner.h"

namespace rnnad::detail {

struct CudaBackend {
  using Stack = cuda::RnnStack;
  using Linear = cuda::Linear;
  using Attention = cuda::AdditiveAttention;
  using Buffer = cuda::DeviceBuffer;
  using FeedbackDecoder = cuda::FeedbackDecoder;

  const cuda::Context* ctx = nullptr;
  cuda::Strategy strategy = cuda::Strategy::Auto;

  Buffer buffer(int64_t n) const { return Buffer(static_cast<std::size_t>(n)); }
  Stack stack(const Model& m, const RnnConfig& rnn, int64_t max_batch, int64_t max_seq_len) const {
    const StackParams p = stack_params(m, rnn);
    return Stack(*ctx, p.dims, p.params, max_batch, max_seq_len, strategy);
  }
  Linear linear(const Model& m, const std::string& name, bool bias, int64_t /*max_rows*/) const {
    const Weight& w = m.weight(name + ".weight");
    return Linear(*ctx, w.values.data(), bias ? m.weight(name + ".bias").values.data() : nullptr, w.shape[0],
                  w.shape[1]);
  }
  /// The decoder `rnn` with its output head `head` (weight and bias) folded into one recurrence,
  /// where the fold keeps the cell's equations (cuda::feedback_foldable); else nothing.
  std::optional<FeedbackDecoder> feedback_decoder(const Model& m, const RnnConfig& rnn, const std::string& head,
                                                  int64_t max_batch, int64_t max_steps) const {
    const StackParams p = stack_params(m, rnn);
    if (!cuda::feedback_foldable(p.dims)) return std::nullopt;
    return std::optional<FeedbackDecoder>(std::in_place, *ctx, p.dims, p.params[0],
                                          m.weight(head + ".weight").values.data(),
                                          m.weight(head + ".bias").values.data(), max_batch, max_steps, strategy);
  }
  Attention attention(const Model& m, const AttentionConfig& c, int64_t max_batch, int64_t max_seq_len) const {
    const AttentionWeights w = attention_weights(m);
    return Attention(*ctx, w.query, w.key, w.key_bias, w.v, c.attention_size, c.hidden_size, c.hidden_size, max_batch,
                     max_seq_len);
  }
  void copy(float* dst, const float* src, int64_t n) const { cuda::copy(*ctx, dst, src, n); }
  void zero(float* dst, int64_t n) const { cuda::zero(*ctx, dst, n); }
  void copy_rows(float* dst, int64_t ld_dst, const float* src, int64_t ld_src, int64_t rows, int64_t cols) const {
    cuda::copy_rows(*ctx, dst, ld_dst, src, ld_src, rows, cols);
  }
  void zero_rows(float* dst, int64_t ld_dst, int64_t rows, int64_t cols) const {
    cuda::zero_rows(*ctx, dst, ld_dst, rows, cols);
  }
};

/// The CUDA WindowScorer (cuda_window_scorer.cpp) of the reconstruction, attention or windowed
/// prediction graph `graph` (device pointers; it must outlive the scorer) on `ctx`, for batches
/// of up to max_batch windows of cfg's seq_len; x: device [seq_len, max_batch, input_size], y:
/// the graph's output for max_batch windows ([seq_len, max_batch, input_size] reconstructions or
/// [max_batch, prediction_size] predictions); buffers it may use between the graph's other calls
/// (the runner's own). Null (host scoring) when stride > seq_len or a batch exceeds the score
/// kernels' indexing. Throws CudaError when the device memory cannot be allocated.
std::unique_ptr<WindowScorer> make_cuda_window_scorer(const cuda::Context& ctx, Runner& graph, float* x, float* y,
                                                      const ModelConfig& cfg, const ScoringConfig& scoring,
                                                      int64_t max_batch);

}  // namespace rnnad::detail
