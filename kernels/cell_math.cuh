// Gate nonlinearities of the fused cell kernels (device code; docs/kernels.md).
//
// Numerics (design.md §3): exact saturation and no NaN for any finite or infinite input; NaN in,
// NaN out. Both use the accurate CUDA math functions (expf, expm1f: at most 2 ulp), never the
// __expf intrinsic, and the kernels are never built with --use_fast_math.
//   sigmoid(x) = 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) for x < 0: the exponential is never
//     of a large positive number, so there is no inf/inf; sigmoid(+-inf) = 1 / 0 exactly.
//   tanh(x)    = sign(x) * (-m) / (2 + m) with m = expm1(-2|x|) in (-1, 0]: no cancellation near
//     0 (expm1 is accurate there, tanh(1e-30) = 1e-30) and exactly +-1 once m rounds to -1
//     (|x| > ~9), including +-inf.
// The CPU reference (cpu_reference/) has its own, independent implementation; it must never
// include this file.
#pragma once

#include "kernel_common.cuh"

namespace rnnad::cuda {

/// Logistic sigmoid, exact saturation (see the file comment).
__device__ __forceinline__ float cell_sigmoid(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
  const float e = expf(x);
  return e / (1.0f + e);
}

/// Hyperbolic tangent, exact saturation (see the file comment).
__device__ __forceinline__ float cell_tanh(float x) {
  const float m = expm1f(-2.0f * fabsf(x));
  return copysignf(-m / (2.0f + m), x);
}

/// b[i], or 0 when the layer has no bias (b == nullptr).
__device__ __forceinline__ float cell_bias(const float* __restrict__ b, std::size_t i) {
  return b != nullptr ? b[i] : 0.0f;
}

}  // namespace rnnad::cuda
