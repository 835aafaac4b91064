// Allocation-free single-precision GEMM for the CPU path, on Eigen's packed kernels.
#pragma once

#include <cstdint>
#include <memory>

namespace rnnad::cpu {

/// C[m x n] += A[m x k] * Bt[k x n], all row-major with leading dimensions (lda >= k, ldbt >= n,
/// ldc >= n). Bt is a PyTorch weight (out_features x in_features) transposed once at load: with
/// that layout the m == 1 case is a column-major GEMV (axpy over the outputs, no horizontal
/// reductions), 3-4x faster than a row-major one at LSTM sizes. Eigen's blocked product
/// normally allocates its packing buffers on every call; a plan allocates them once, sized for
/// m <= max_m, so run() never allocates (tests/test_no_alloc.cpp). m == 1 uses Eigen's GEMV.
/// A plan is not thread-safe: run() writes its packing buffers.
class GemmPlan {
 public:
  GemmPlan(int64_t max_m, int64_t n, int64_t k);
  ~GemmPlan();
  GemmPlan(GemmPlan&&) noexcept;
  GemmPlan& operator=(GemmPlan&&) noexcept;

  /// Precondition (unchecked): 1 <= m <= max_m.
  void run(int64_t m, const float* a, int64_t lda, const float* bt, int64_t ldbt, float* c, int64_t ldc) const;

  int64_t n() const { return m_n; }
  int64_t k() const { return m_k; }

 private:
  struct Blocking;
  int64_t m_n = 0, m_k = 0;
  std::unique_ptr<Blocking> m_blocking;
};

}  // namespace rnnad::cpu
