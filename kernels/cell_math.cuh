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

/// The state update of one hidden unit from its gates' input parts x[g] = gx + b_ih and recurrent
/// parts r[g] = h_prev W_hh^T + b_hh (PyTorch's gate order and equations); returns h':
///   kGates 4 (LSTM i, f, g, o): c = f c + i g, h' = o tanh(c); `c` is read and updated.
///   kGates 3 (GRU r, z, n): n = tanh(x_n + r * r_n) (b_hn inside the reset product),
///     h' = (1 - z) n + z h_prev.
///   kGates 1 (RNN): h' = tanh(x + r), or relu when `relu` (NaN stays NaN, as in PyTorch).
/// Every kernel applies its gates through this one function.
template <int kGates>
__device__ __forceinline__ float cell_update(const float (&x)[kGates], const float (&r)[kGates], float h_prev, float& c,
                                             bool relu) {
  if constexpr (kGates == 4) {
    const float in_gate = cell_sigmoid(x[0] + r[0]);
    const float forget_gate = cell_sigmoid(x[1] + r[1]);
    const float cell_cand = cell_tanh(x[2] + r[2]);
    const float out_gate = cell_sigmoid(x[3] + r[3]);
    c = forget_gate * c + in_gate * cell_cand;
    return out_gate * cell_tanh(c);
  } else if constexpr (kGates == 3) {
    const float reset = cell_sigmoid(x[0] + r[0]);
    const float update = cell_sigmoid(x[1] + r[1]);
    const float cand = cell_tanh(x[2] + reset * r[2]);
    return (1.0f - update) * cand + update * h_prev;
  } else {
    const float pre = x[0] + r[0];
    return relu ? (pre < 0.0f ? 0.0f : pre) : cell_tanh(pre);
  }
}

}  // namespace rnnad::cuda
