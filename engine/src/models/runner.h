// Per-kind model graphs (internal to the engine). Arguments are validated by Engine before they
// reach a runner; runners allocate only at construction. Each graph (graphs.h) is written once
// against a backend interface (cpu_backend.h) and instantiated for the CPU and, in CUDA builds,
// for the GPU (cuda_runner.cpp), so both paths run the very same model code.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rnnad/cpu/team.h"
#include "rnnad/engine.h"
#include "rnnad/model.h"
#include "rnnad/rnn_dims.h"

struct CUstream_st;

namespace rnnad {
struct OutputSpread;
}

namespace rnnad::detail {

/// Scores batches of a series' windows on the runner's device (reconstruction, attention and
/// windowed prediction kinds; docs/scoring.md §8): the windows are gathered from the batch's rows
/// and run through the model there, then scored (reconstructions: pooled into rows), and only the
/// rows that are final come back. Made by Runner::make_window_scorer; one series at a time, its
/// batches in order from window 0.
class WindowScorer {
 public:
  virtual ~WindowScorer() = default;
  /// Windows [first, first + count) (count <= the max_batch it was made for) of a series of
  /// `series_rows` rows: `rows` are the float64 normalised rows from first·stride on, [span, I]
  /// with span = (count − 1)·stride + seq_len, and for a forecaster one more row when the series
  /// has it (the last window's target). first == 0 starts a new series. Writes the rows that are
  /// final after this batch into scores [series_rows] and contributions [series_rows, F'] (host,
  /// indexed by series row): a reconstruction's rows up to the next batch's first row, or all
  /// remaining rows when `last` (mean pooling: sums, the caller divides); a forecaster's rows
  /// after each window. Merges this batch's spread into `spread` (not its window count). Returns
  /// the first series row (in window order) whose output is not finite (a forecaster: the row its
  /// prediction was made after), or -1. Throws CudaError.
  virtual int64_t run(const double* rows, int64_t first, int64_t count, int64_t series_rows, bool last, double* scores,
                      double* contributions, OutputSpread& spread) = 0;
};

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
  /// Windowed kinds, where the runner gathers windows itself (the CUDA runner: the rows go up
  /// once and are gathered on the device): windows of T steps at `stride`, `rows` [span, I] the
  /// series rows from the first window's first row, span = (count − 1)·stride + T; outputs as
  /// reconstruct() (recon, attn or null) or predict() (pred) of the gathered [T, count, I] input.
  /// Returns false, having done nothing, where it does not (the caller gathers on the host).
  virtual bool run_windows(int64_t /*T*/, int64_t /*count*/, int64_t /*stride*/, const float* /*rows*/,
                           float* /*recon*/, float* /*attn*/, float* /*pred*/) {
    return false;
  }
  /// Threads the last call ran on (1 unless the runner splits batches).
  virtual int last_call_threads() const { return 1; }
  /// A WindowScorer for batches of up to max_batch windows scored with `scoring` (its stride),
  /// where the runner's device scores (the CUDA runner: reconstruction, attention and windowed
  /// prediction kinds); else null: the host scores the downloaded outputs.
  virtual std::unique_ptr<WindowScorer> make_window_scorer(const ScoringConfig& /*scoring*/, int64_t /*max_batch*/) {
    return nullptr;
  }
};

/// The runner behind `engine` (defined in engine.cpp).
Runner& runner_of(Engine& engine);

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
