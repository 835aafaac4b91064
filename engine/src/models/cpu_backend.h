// The CPU backend of the model graphs (internal; see graphs.h): host memory, the Eigen ops of
// cpu_reference/. Every graph is written once against this interface and instantiated for it and
// for CudaBackend (cuda_backend.h):
//   Stack, Linear, Attention          op types with the cpu:: contracts
//   Buffer buffer(n)                  n zero floats in the backend's memory (.data())
//   stack(model, rnn, max_batch, max_seq_len), linear(model, name, bias, max_rows),
//   attention(model, config, max_batch, max_seq_len)
//   FeedbackDecoder, feedback_decoder(model, rnn, head, max_batch, max_steps): a decoder fed its
//                                     own output head in one launch, or nothing (the CPU: always)
//   copy(dst, src, n), zero(dst, n), copy_rows(dst, ld_dst, src, ld_src, rows, cols),
//   zero_rows(dst, ld_dst, rows, cols)  on the backend's memory, in call order
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "rnnad/cpu/attention.h"
#include "rnnad/cpu/linear.h"
#include "rnnad/cpu/rnn_stack.h"
#include "runner.h"

namespace rnnad::detail {

/// The CPU runs a decoder fed its own outputs step by step (the reference path): it has no
/// folded decoder, so feedback_decoder() always returns nothing.
struct NoFeedbackDecoder {
  bool eligible(int64_t, int64_t) const { return false; }
  void run(int64_t, int64_t, const float*, float*, bool) {}
  const float* outputs() const { return nullptr; }
};

struct CpuBackend {
  cpu::RnnStack::Kernel kernel = cpu::RnnStack::Kernel::Auto;  // EngineOptions::cpu_kernels
  cpu::Team* team = nullptr;  // threads lent to a call's stacks (parallel_runner.cpp), or none

  using Stack = cpu::RnnStack;
  using Linear = cpu::Linear;
  using Attention = cpu::AdditiveAttention;
  using Buffer = std::vector<float>;
  using FeedbackDecoder = NoFeedbackDecoder;

  Buffer buffer(int64_t n) const { return Buffer(static_cast<std::size_t>(n), 0.0f); }
  Stack stack(const Model& m, const RnnConfig& rnn, int64_t max_batch, int64_t max_seq_len) const {
    const StackParams p = stack_params(m, rnn);
    return Stack(p.dims, p.params, max_batch, max_seq_len, kernel, team);
  }
  Linear linear(const Model& m, const std::string& name, bool bias, int64_t max_rows) const {
    const Weight& w = m.weight(name + ".weight");
    return Linear(w.values.data(), bias ? m.weight(name + ".bias").values.data() : nullptr, w.shape[0], w.shape[1],
                  max_rows);
  }
  std::optional<FeedbackDecoder> feedback_decoder(const Model&, const RnnConfig&, const std::string&, int64_t,
                                                  int64_t) const {
    return std::nullopt;
  }
  Attention attention(const Model& m, const AttentionConfig& c, int64_t max_batch, int64_t max_seq_len) const {
    const AttentionWeights w = attention_weights(m);
    return Attention(w.query, w.key, w.key_bias, w.v, c.attention_size, c.hidden_size, c.hidden_size, max_batch,
                     max_seq_len);
  }
  void copy(float* dst, const float* src, int64_t n) const { std::copy_n(src, n, dst); }
  void zero(float* dst, int64_t n) const { std::fill_n(dst, n, 0.0f); }
  void copy_rows(float* dst, int64_t ld_dst, const float* src, int64_t ld_src, int64_t rows, int64_t cols) const {
    for (int64_t r = 0; r < rows; ++r) std::copy_n(src + r * ld_src, cols, dst + r * ld_dst);
  }
  void zero_rows(float* dst, int64_t ld_dst, int64_t rows, int64_t cols) const {
    for (int64_t r = 0; r < rows; ++r) std::fill_n(dst + r * ld_dst, cols, 0.0f);
  }
};

}  // namespace rnnad::detail
