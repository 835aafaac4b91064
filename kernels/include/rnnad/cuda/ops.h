// Stream-ordered memory operations and the one GEMM shape the CUDA backend uses. All pointers are
// device pointers unless named host; every call is queued on ctx.stream() and returns at once;
// failures throw CudaError naming the call (file, line, CUDA's message).
#pragma once

#include <cstdint>

#include "rnnad/cuda/context.h"

namespace rnnad::cuda {

/// dst[0, n) = src[0, n).
void copy(const Context& ctx, float* dst, const float* src, int64_t n);
/// dst[0, n) = 0.
void zero(const Context& ctx, float* dst, int64_t n);
/// dst[r * ld_dst + c] = src[r * ld_src + c] for r < rows, c < cols (cudaMemcpy2DAsync).
void copy_rows(const Context& ctx, float* dst, int64_t ld_dst, const float* src, int64_t ld_src, int64_t rows,
               int64_t cols);
/// dst[r * ld_dst + c] = 0 for r < rows, c < cols.
void zero_rows(const Context& ctx, float* dst, int64_t ld_dst, int64_t rows, int64_t cols);
/// Host -> device and device -> host copies of n values (T: float, double or int), queued on the
/// stream. `host` should be pinned (PinnedArray) for the copy to be asynchronous.
template <class T>
void to_device(const Context& ctx, T* dst, const T* host, int64_t n);
template <class T>
void to_host(const Context& ctx, T* host, const T* src, int64_t n);

/// y[r, :] = beta * y[r, :] + x[r, :] W^T for r < rows: x [rows, ldx] (in_features used),
/// w [out_features, in_features] (PyTorch layout, row-major), y [rows, ldy]. fp32 with
/// CUBLAS_COMPUTE_32F (no TF32). beta is 0 or 1.
void gemm_xwt(const Context& ctx, int64_t rows, int64_t out_features, int64_t in_features, const float* x, int64_t ldx,
              const float* w, float* y, int64_t ldy, float beta);

}  // namespace rnnad::cuda
