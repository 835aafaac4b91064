// Branch-free float exp, sigmoid and tanh (and the LSTM state update built on them) for the CPU
// path, written so that GCC vectorises the element loops that call them. Accuracy
// (tests/test_activations.cpp, >= 10^7 inputs against float64): relative error <= 1e-6 or
// absolute error <= 1e-7; exact saturation (sigmoid -> 0 / 1, tanh -> -1 / 1) and no NaN for any
// finite input, including +-FLT_MAX (shared/docs/field_cases.md F18).
#pragma once

#include <bit>
#include <cstdint>

namespace rnnad::cpu {

/// e^x for float. Cody-Waite reduction x = n ln2 + r (|r| <= ln2/2), degree-7 Taylor polynomial
/// for e^r (truncation < 0.1 ulp), scaling by 2^n applied as two normal powers of two so that
/// results overflow to +inf above ~88.72 and underflow gradually (subnormals) to 0 below ~-103.
inline float exp_f32(float x) {
  x = x > 89.0f ? 89.0f : x;
  x = x < -104.0f ? -104.0f : x;
  // n = round(x / ln2) without a float->int conversion: adding 1.5 * 2^23 leaves n in the
  // low mantissa bits.
  constexpr float kMagic = 12582912.0f;
  const float t = x * 1.44269504088896341f + kMagic;
  const float n = t - kMagic;
  const std::int32_t ni = std::bit_cast<std::int32_t>(t) - std::bit_cast<std::int32_t>(kMagic);
  float r = x - n * 0.693359375f;  // ln2 high part: few mantissa bits, so n * hi is exact
  r = r - n * -2.12194440e-4f;     // ln2 low part
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const std::int32_t n1 = ni >> 1, n2 = ni - n1;  // both in [-75, 65]: normal powers of two
  const float s1 = std::bit_cast<float>((n1 + 127) << 23);
  const float s2 = std::bit_cast<float>((n2 + 127) << 23);
  return p * s1 * s2;
}

/// Logistic sigmoid 1 / (1 + e^-x); 0 for x < ~-103.9 and exactly 1 for x > ~16.6.
inline float sigmoid_f32(float x) { return 1.0f / (1.0f + exp_f32(-x)); }

/// Hyperbolic tangent. |x| < 0.625: odd minimax polynomial x + x^3 P(x^2) (Cephes tanhf
/// coefficients); otherwise sign(x) (1 - 2 / (e^{2|x|} + 1)), exactly +-1 for |x| > ~9.
inline float tanh_f32(float x) {
  const float ax = x < 0.0f ? -x : x;
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = x + x * z * p;
  const float big = 1.0f - 2.0f / (exp_f32(2.0f * ax) + 1.0f);
  const float signed_big = x < 0.0f ? -big : big;
  return ax < 0.625f ? small : signed_big;
}

/// PyTorch's LSTM state update for n units: gates holds the pre-activations i, f, g, o at
/// gates + k * stride (k = 0..3); c' = sigmoid(f) c + sigmoid(i) tanh(g) replaces c, and
/// h = sigmoid(o) tanh(c') is written to h. The loop GCC vectorises (both CPU kernels use it).
inline void lstm_update(const float* gates, int64_t stride, float* c, float* h, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float i = sigmoid_f32(gates[j]);
    const float f = sigmoid_f32(gates[stride + j]);
    const float gg = tanh_f32(gates[2 * stride + j]);
    const float o = sigmoid_f32(gates[3 * stride + j]);
    const float cn = f * c[j] + i * gg;
    c[j] = cn;
    h[j] = o * tanh_f32(cn);
  }
}

}  // namespace rnnad::cpu
