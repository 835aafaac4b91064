// The inference engine: a loaded model bound to a device with pre-allocated work buffers.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "rnnad/device.h"
#include "rnnad/model.h"

struct CUstream_st;  // cudaStream_t is CUstream_st*; no CUDA header needed here

namespace rnnad {

class Engine;
namespace detail {
class Runner;
Runner& runner_of(Engine& engine);  ///< internal: the per-kind model graph behind an engine
}  // namespace detail

/// Engine settings. Work buffers are sized from max_batch and max_seq_len at construction;
/// larger calls are rejected with ShapeError, smaller ones reuse the buffers.
/// Which CUDA kernels run the recurrences (docs/kernels.md, "Strategy table"): Auto picks per
/// call; Step forces one fused cell launch per time step; Persistent forces one launch per layer
/// and direction with W_hh held on chip: registers or shared memory of one block, of a cluster
/// of up to 8 on sm_90, or of up to one block per SM (Engine creation throws UnsupportedError
/// when it does not fit); Gemm forces one cuBLAS GEMM plus one element-wise gate launch per
/// step. For benchmarking and diagnosis; results agree within the fp32 tolerance.
enum class CudaKernels { Auto, Step, Persistent, Gemm };

/// Which CPU kernels run the recurrences (docs/architecture.md, "The CPU path"): Auto runs the
/// tiled, register-blocked kernel for unidirectional LSTM (without proj_size) and GRU stacks and
/// the Eigen kernel for the others; Reference runs the Eigen kernel for every model, the
/// correctness reference. Results agree within the fp32 tolerance.
enum class CpuKernels { Auto, Reference };

/// Device::Cuda allocates every device and pinned host buffer at construction; a call then only
/// copies its inputs in, queues the work and copies the outputs back (docs/architecture.md).
struct EngineOptions {
  Device device = Device::Auto;
  int device_index = 0;        ///< CUDA device ordinal (Device::Cuda / Auto)
  int64_t max_batch = 1;       ///< largest batch a forward call may pass
  int64_t max_seq_len = 4096;  ///< largest seq_len a forward call may pass
  /// A caller-owned cudaStream_t for all of this engine's GPU work (null: the engine creates its
  /// own non-blocking stream). The engine never destroys it; calls still return only when their
  /// outputs are in host memory. Ignored on the CPU.
  CUstream_st* cuda_stream = nullptr;
  CudaKernels cuda_kernels = CudaKernels::Auto;  ///< ignored on the CPU
  CpuKernels cpu_kernels = CpuKernels::Auto;     ///< ignored on the GPU
  /// CPU threads a call may use (>= 1; 0 = all hardware threads), the engine's own workers
  /// (started at construction, idle between calls). A call whose work is large enough is split:
  /// a bare LSTM/GRU stack on the tiled kernel splits its batch into row shares itself, or a
  /// batch under 6 rows of a large layer by hidden units with a barrier per step; other model
  /// kinds are split into batch slices, one graph copy per thread (docs/architecture.md,
  /// "Threads and determinism"). Threads beyond the free cores slow barrier-split calls down.
  /// Results are repeatable bit for bit for a given thread count; across thread counts they
  /// agree within float32 rounding (bare tiled stacks: bit for bit). Threads are not shared
  /// between engines: N engines × `threads` threads should not exceed the cores. Ignored on the GPU.
  int threads = 1;
};

/// A read-only rank-3 float tensor: contiguous, row-major. data == nullptr means "not given".
struct ConstTensor3 {
  const float* data = nullptr;
  std::array<int64_t, 3> shape{0, 0, 0};
};

/// A writable rank-3 float tensor: contiguous, row-major. data == nullptr means "not wanted"
/// where the callee allows it.
struct Tensor3 {
  float* data = nullptr;
  std::array<int64_t, 3> shape{0, 0, 0};
};

/// Model outputs for a batch of consecutive windows of a series (Engine::run_windows). Views
/// into the engine's own buffers, valid until the engine's next call.
struct WindowOutputs {
  int64_t first_window = 0;  ///< index of the first window (it starts at row first_window * stride)
  int64_t count = 0;         ///< windows in this batch (the batch dimension below)
  Tensor3 reconstruction;    ///< [seq_len, count, input_size] (reconstruction, attention kinds)
  Tensor3 attention;         ///< [seq_len, count, seq_len] (attention kind)
  Tensor3 prediction;        ///< [1, count, P] (windowed prediction kind)
};

/// Runs a model on one device. Construction allocates every buffer; forward() allocates nothing
/// (tests/test_no_alloc.cpp). One forward() at a time per Engine (use one Engine per thread;
/// the Model is shared read-only).
class Engine {
 public:
  /// Device::Cuda runs the model on GPU device_index or throws: UnsupportedError in a build
  /// without CUDA, on a machine without a CUDA device, for an ordinal past the last device, or for
  /// a model the CUDA backend does not run (LSTM proj_size > 0; the message names it); CudaError when the device fails
  /// (out of memory, driver error). It never falls back silently. Device::Auto uses the GPU when one is present and the
  /// model runs there, else the CPU, and notice() says which and why. ShapeError when max_batch or max_seq_len < 1;
  /// Error when threads < 0.
  Engine(std::shared_ptr<const Model> model, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Forward pass of a kind-"rnn" model, exactly PyTorch's nn.RNN/LSTM/GRU forward in float32.
  /// Shapes (time-major; L = num_layers, D = 1 or 2, H = hidden_size, H_out = proj_size or H):
  ///   input  [seq_len, batch, input_size]            required
  ///   h0     [L*D, batch, H_out]                     optional (data null = zeros)
  ///   c0     [L*D, batch, H]                         optional, LSTM only
  ///   output [seq_len, batch, D*H_out]               required
  ///   h_n    [L*D, batch, H_out]                     required
  ///   c_n    [L*D, batch, H]                         optional, LSTM only
  /// Throws ShapeError naming the tensor with expected and actual shapes (e.g. "h0: expected
  /// shape [2, 3, 3] (num_layers*num_directions, batch, hidden_size), got [3, 2, 3]"), and for
  /// seq_len 0 ("sequence length must be >= 1 (got 0)"), batch 0, or sizes above the options.
  void forward(const ConstTensor3& input, const ConstTensor3& h0, const ConstTensor3& c0, const Tensor3& output,
               const Tensor3& h_n, const Tensor3& c_n);

  /// Kinds "reconstruction" and "attention" (docs/models.md): reconstructs a batch of windows,
  /// the decoder fed its own outputs as at inference. Shapes (I = input_size):
  ///   windows        [seq_len, batch, I]        required (seq_len usually the model's seq_len)
  ///   reconstruction [seq_len, batch, I]        required, in time order
  ///   attention      [seq_len, batch, seq_len]  optional, attention kind only: row t holds the
  ///                                             weights over encoder steps used for output t
  /// Throws UnsupportedError for other kinds, ShapeError as forward() does.
  void reconstruct(const ConstTensor3& windows, const Tensor3& reconstruction, const Tensor3& attention = {});

  /// Kind "prediction" with state "windowed": each window starts from a zero state; the head
  /// reads the last step. windows [seq_len, batch, I]; prediction [1, batch, P], P = horizon *
  /// K * d laid out [horizon, K, d] (docs/models.md). Throws UnsupportedError, ShapeError.
  void predict(const ConstTensor3& windows, const Tensor3& prediction);

  /// Kind "prediction" with state "stateful": runs `series` [N, batch, I] (any N >= 1, in chunks
  /// of max_seq_len steps) carrying the recurrent state, a prediction after every step:
  /// prediction [N, batch, P]. h, c [num_layers, batch, hidden_size] (c: LSTM only) hold the
  /// state before the call and receive it after; data null = start from zeros and do not
  /// return it. Feeding a series in chunks gives the same predictions as one call.
  void predict_stateful(const ConstTensor3& series, const Tensor3& prediction, const Tensor3& h = {},
                        const Tensor3& c = {});

  /// Windows of the model's seq_len T in a series of `rows` rows with the given stride:
  /// floor((rows - T) / stride) + 1. Throws ShapeError when rows < T ("series has N rows, the
  /// model's window needs T"), or stride < 1; UnsupportedError for kinds without a window.
  int64_t window_count(int64_t rows, int64_t stride) const;

  /// Runs windows [first, first + count) of `series` ([rows, input_size], row-major, one row per
  /// time step; window w covers rows [w * stride, w * stride + T)) as reconstruct() or predict()
  /// of the gathered time-major windows (1 <= count <= max_batch). On the GPU, for stride <= T,
  /// the rows go up once and the windows are gathered there; elsewhere they are gathered on the
  /// host. Allocates nothing. Throws ShapeError for windows outside the series.
  WindowOutputs run_windows(const float* series, int64_t rows, int64_t stride, int64_t first, int64_t count);

  const Model& model() const;
  const EngineOptions& options() const;
  /// The device actually used (never Auto).
  Device device() const;
  /// Human-readable backend, e.g. "cpu (tiled LSTM/GRU kernel, Eigen 3.4.0, 2 threads)" or "cuda (NVIDIA H200 (cuda:0,
  /// sm_90, 132 SMs); recurrence: auto: ...; cuBLAS projections)".
  std::string backend_name() const;
  /// CPU threads the last call ran on: 1 on the GPU or when the call was too small to split
  /// (docs/architecture.md, "Threads"); up to options().threads otherwise.
  int last_call_threads() const;
  /// One line for the user about the device choice with Device::Auto ("device auto: running on
  /// ..." with the reason when it is the CPU); empty for an explicit device.
  const std::string& notice() const;

 private:
  friend detail::Runner& detail::runner_of(Engine& engine);
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace rnnad
