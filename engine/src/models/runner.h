// Per-kind model graphs on the CPU ops (internal to the engine). Arguments are validated by
// Engine before they reach a runner; runners allocate only at construction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "rnnad/cpu/linear.h"
#include "rnnad/cpu/rnn_stack.h"
#include "rnnad/model.h"

namespace rnnad::detail {

/// The model graph of one kind. Each kind overrides what it supports; Engine checks the kind
/// first, so the base versions are never reached.
class Runner {
 public:
  virtual ~Runner() = default;
  /// Kind rnn: PyTorch forward (shapes in engine.h).
  virtual void forward(int64_t T, int64_t B, const float* x, const float* h0, const float* c0, float* output,
                       float* h_n, float* c_n);
  /// Kinds reconstruction and attention: x, recon [T, B, I]; attn [T, B, T] or null.
  virtual void reconstruct(int64_t T, int64_t B, const float* x, float* recon, float* attn);
  /// Kind prediction, windowed: x [T, B, I]; pred [1, B, P].
  virtual void predict(int64_t T, int64_t B, const float* x, float* pred);
  /// Kind prediction, stateful: x [N, B, I]; pred [N, B, P]; h, c [L, B, H] in/out or null.
  virtual void predict_stateful(int64_t N, int64_t B, const float* x, float* pred, float* h, float* c);
};

/// The CPU runner for `model`'s kind, sized for batch <= max_batch and seq_len <= max_seq_len.
std::unique_ptr<Runner> make_cpu_runner(const Model& model, int64_t max_batch, int64_t max_seq_len);

/// A cpu::RnnStack holding the weights of the recurrent module `rnn` of `model`.
cpu::RnnStack make_stack(const Model& model, const RnnConfig& rnn, int64_t max_batch, int64_t max_seq_len);

/// A cpu::Linear holding `name`.weight (and `name`.bias when `bias`).
cpu::Linear make_linear(const Model& model, const std::string& name, bool bias, int64_t max_rows);

}  // namespace rnnad::detail
