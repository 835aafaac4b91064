// PyTorch's nn.Linear on a CUDA device: y = x W^T + b as a bias broadcast plus one cuBLAS GEMM.
#pragma once

#include <cstdint>

#include "rnnad/cuda/context.h"

namespace rnnad::cuda {

/// A linear layer resident on the context's device; apply() only queues work on the stream.
class Linear {
 public:
  /// weight [out_features, in_features] (PyTorch layout, host), bias [out_features] or null;
  /// both copied to the device. Throws CudaError when device memory runs out.
  Linear(const Context& ctx, const float* weight, const float* bias, int64_t out_features, int64_t in_features);

  /// y[r, :] = x[r, :] W^T + b for r < rows; device x [rows, ldx], y [rows, ldy] (ldx >=
  /// in_features, ldy >= out_features), not overlapping. Same contract as cpu::Linear::apply.
  void apply(int64_t rows, const float* x, int64_t ldx, float* y, int64_t ldy) const;

  int64_t in_features() const { return m_in; }
  int64_t out_features() const { return m_out; }

 private:
  const Context& m_ctx;
  int64_t m_out, m_in;
  DeviceBuffer m_weight, m_bias;
};

}  // namespace rnnad::cuda
