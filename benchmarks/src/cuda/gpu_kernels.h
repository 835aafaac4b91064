// The two small device kernels the cuDNN backend needs around cudnnRNNForward (CUDA builds only).
// Both are queued on the default stream and return at once.
#pragma once

#include <cstdint>

namespace rnnad::bench {

/// x[t, b, :] = series[(b * stride + t) * I + :] for t < T, b < B: B windows of a series
/// ([rows, I], row-major, on the device) gathered time-major into x ([T, B, I], on the device).
void gather_windows(const float* series, int64_t stride, int64_t T, int64_t B, int64_t I, float* x);

/// out[r, :] = bias[:] for r < rows (out [rows, n], bias [n], on the device).
void broadcast_rows(const float* bias, int64_t rows, int64_t n, float* out);

}  // namespace rnnad::bench
