// Stream-ordered copies and the backend's GEMM (rnnad/cuda/ops.h).
#include "rnnad/cuda/ops.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <climits>
#include <string>

#include "cublas_check.h"
#include "cuda_check.h"

namespace rnnad::cuda {

namespace {

constexpr std::size_t kF = sizeof(float);

std::size_t bytes(int64_t n) { return static_cast<std::size_t>(n) * kF; }

int checked_int(int64_t v, const char* what) {
  if (v < 0 || v > INT_MAX)
    throw ShapeError(std::string("gemm: ") + what + " " + std::to_string(v) + " is outside cuBLAS's int range");
  return static_cast<int>(v);
}

}  // namespace

void copy(const Context& ctx, float* dst, const float* src, int64_t n) {
  if (n > 0) RNNAD_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes(n), cudaMemcpyDeviceToDevice, ctx.stream()));
}

void zero(const Context& ctx, float* dst, int64_t n) {
  if (n > 0) RNNAD_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes(n), ctx.stream()));
}

void copy_rows(const Context& ctx, float* dst, int64_t ld_dst, const float* src, int64_t ld_src, int64_t rows,
               int64_t cols) {
  if (rows > 0 && cols > 0)
    RNNAD_CUDA_CHECK(cudaMemcpy2DAsync(dst, bytes(ld_dst), src, bytes(ld_src), bytes(cols),
                                       static_cast<std::size_t>(rows), cudaMemcpyDeviceToDevice, ctx.stream()));
}

void zero_rows(const Context& ctx, float* dst, int64_t ld_dst, int64_t rows, int64_t cols) {
  if (rows > 0 && cols > 0)
    RNNAD_CUDA_CHECK(
        cudaMemset2DAsync(dst, bytes(ld_dst), 0, bytes(cols), static_cast<std::size_t>(rows), ctx.stream()));
}

template <class T>
void to_device(const Context& ctx, T* dst, const T* host, int64_t n) {
  if (n > 0)
    RNNAD_CUDA_CHECK(
        cudaMemcpyAsync(dst, host, static_cast<std::size_t>(n) * sizeof(T), cudaMemcpyHostToDevice, ctx.stream()));
}

template <class T>
void to_host(const Context& ctx, T* host, const T* src, int64_t n) {
  if (n > 0)
    RNNAD_CUDA_CHECK(
        cudaMemcpyAsync(host, src, static_cast<std::size_t>(n) * sizeof(T), cudaMemcpyDeviceToHost, ctx.stream()));
}

template void to_device(const Context&, float*, const float*, int64_t);
template void to_device(const Context&, double*, const double*, int64_t);
template void to_device(const Context&, int*, const int*, int64_t);
template void to_host(const Context&, float*, const float*, int64_t);
template void to_host(const Context&, double*, const double*, int64_t);
template void to_host(const Context&, int*, const int*, int64_t);

void gemm_xwt(const Context& ctx, int64_t rows, int64_t out_features, int64_t in_features, const float* x, int64_t ldx,
              const float* w, float* y, int64_t ldy, float beta) {
  if (rows < 1) return;
  const float alpha = 1.0f;
  // cuBLAS is column-major: row-major Y [rows, out] is the column-major matrix Y^T [out, rows],
  // and Y^T = W X^T, where W's row-major [out, in] storage is column-major W^T [in, out] (so
  // op(A) = transpose) and X's row-major storage is column-major X^T [in, rows] (op(B) = none).
  RNNAD_CUBLAS_CHECK(cublasGemmEx(ctx.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, checked_int(out_features, "out_features"),
                                  checked_int(rows, "rows"), checked_int(in_features, "in_features"), &alpha, w,
                                  CUDA_R_32F, checked_int(in_features, "in_features"), x, CUDA_R_32F,
                                  checked_int(ldx, "ldx"), &beta, y, CUDA_R_32F, checked_int(ldy, "ldy"),
                                  CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

}  // namespace rnnad::cuda
