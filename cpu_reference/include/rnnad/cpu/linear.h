// Eigen implementation of PyTorch's nn.Linear for rows of a batch: y = x W^T + b.
#pragma once

#include <cstdint>
#include <vector>

#include "rnnad/cpu/gemm.h"

namespace rnnad::cpu {

/// A linear layer with its own (transposed) copy of the weights and a GEMM plan for up to
/// max_rows rows; apply() allocates nothing. Not thread-safe (shares packing buffers).
class Linear {
 public:
  /// weight: [out_features, in_features] (PyTorch layout, row-major); bias: [out_features] or
  /// null. Both are copied.
  Linear(const float* weight, const float* bias, int64_t out_features, int64_t in_features, int64_t max_rows);

  /// y[r, :] = x[r, :] W^T + b for r < rows (1 <= rows <= max_rows, unchecked). x: rows with
  /// stride ldx (>= in_features); y: rows with stride ldy (>= out_features); x and y must not
  /// overlap.
  void apply(int64_t rows, const float* x, int64_t ldx, float* y, int64_t ldy) const;

  int64_t in_features() const { return m_in; }
  int64_t out_features() const { return m_out; }

 private:
  int64_t m_out, m_in;
  std::vector<float> m_weight_t, m_bias;
  GemmPlan m_gemm;
};

}  // namespace rnnad::cpu
