// Per-kind model graphs (internal to the engine). Arguments are validated by Engine before they
// reach a runner; runners allocate only at construction. Each graph (graphs.h) is written once
// against a backend interface (cpu_backend.h) and instantiated for the CPU and, in CUDA builds,
// for the GPU (cuda_runner.cpp), so both paths run the very same model code.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rnnad/engine.h"
#include "rnnad/model.h"
#include "rnnad/cpu/team.h"
#include "rnnad/rnn_dims.h"

struct CUstream_st;

namespace rnnad::detail {

/// The model graph of one kind. Each kind overrides what it supports; Engine checks the kind
/// first, so the base versions are never reached. Pointers are in the runner's memory space
/// (host for make_cpu_runner() and make_cuda_runner(); device inside the CUDA graphs).
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
  /// Threads the last call ran on (1 unless the runner splits batches).
  virtual int last_call_threads() const { return 1; }
};

/// The CPU runner for `model`'s kind, sized for batch <= max_batch and seq_len <= max_seq_len,
/// recurrences by `kernels` (EngineOptions::cpu_kernels); `team` (may be null; must outlive the
/// runner) lends threads to its stacks.
std::unique_ptr<Runner> make_cpu_runner(const Model& model, int64_t max_batch, int64_t max_seq_len,
                                        CpuKernels kernels = CpuKernels::Auto, cpu::Team* team = nullptr);

/// The CUDA runner (host pointers in and out, device work inside) on device `device`, queuing on
/// `stream` (null: its own), recurrences by `kernels` (0 auto, 1 step, 2 persistent). Only in
/// CUDA builds; throws UnsupportedError for models the CUDA backend does not run, CudaError when
/// the device cannot be used. *description: the device, e.g. "NVIDIA H200 (cuda:0, sm_90, 132 SMs)".
std::unique_ptr<Runner> make_cuda_runner(const Model& model, int device, CUstream_st* stream, int kernels,
                                         int64_t max_batch, int64_t max_seq_len, std::string* description);

/// Dimensions and PyTorch-layout weight pointers of the recurrent module `rnn` of `model`.
struct StackParams {
  RnnDims dims;
  std::vector<RnnParams> params;  ///< layer * D + direction
};
StackParams stack_params(const Model& model, const RnnConfig& rnn);

/// The additive attention weights of an attention-kind model (PyTorch nn.Linear layouts).
struct AttentionWeights {
  const float *query = nullptr, *key = nullptr, *key_bias = nullptr, *v = nullptr;
};
AttentionWeights attention_weights(const Model& model);

}  // namespace rnnad::detail
