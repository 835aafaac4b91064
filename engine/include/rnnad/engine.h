// The inference engine: a loaded model bound to a device with pre-allocated work buffers.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "rnnad/device.h"
#include "rnnad/model.h"

namespace rnnad {

/// Engine settings. Work buffers are sized from max_batch and max_seq_len at construction;
/// larger calls are rejected with ShapeError, smaller ones reuse the buffers.
struct EngineOptions {
  Device device = Device::Auto;
  int device_index = 0;        ///< CUDA device ordinal (Device::Cuda / Auto)
  int64_t max_batch = 1;       ///< largest batch a forward call may pass
  int64_t max_seq_len = 4096;  ///< largest seq_len a forward call may pass
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

/// Runs a model on one device. Construction allocates every buffer; forward() allocates nothing
/// (tests/test_no_alloc.cpp). One forward() at a time per Engine (use one Engine per thread;
/// the Model is shared read-only).
class Engine {
 public:
  /// Throws UnsupportedError for Device::Cuda in a build or on a machine without a usable CUDA
  /// backend (never falls back silently), ShapeError when max_batch or max_seq_len < 1.
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

  const Model& model() const;
  const EngineOptions& options() const;
  /// The device actually used (never Auto).
  Device device() const;
  /// Human-readable backend, e.g. "cpu (Eigen 3.4.0)".
  std::string backend_name() const;
  /// One line to show the user about the device choice (e.g. Auto fell back to the CPU); empty
  /// when there is nothing to say.
  const std::string& notice() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace rnnad
