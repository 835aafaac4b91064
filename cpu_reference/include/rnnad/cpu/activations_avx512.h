// AVX-512 versions of activations.h's exp, sigmoid and tanh on 16 floats at a time, for the
// tiled kernel's gate updates (src/tiled_recurrence.cpp). Same reductions and polynomials as
// the scalar functions, with two AVX-512 instructions in place of their slow parts: 2^n is
// applied by vscalefps (correct overflow to +inf and gradual underflow in one instruction) and
// 1 / d is vrcp14ps refined by one Newton step (error <= ~1.5 ulp) instead of a division.
// Same accuracy contract as activations.h (relative error <= 1e-6 or absolute <= 1e-7, exact
// saturation, no NaN for finite input, NaN in gives NaN out); tests/test_activations.cpp checks
// both side by side. Clamps are written min(bound, x) / max(bound, x), which return x when it
// is NaN, so a NaN is never turned into a number.
// Only defined when compiling for AVX-512F and DQ (RNNAD_AVX512_ACTIVATIONS is then 1).
#pragma once

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>
#define RNNAD_AVX512_ACTIVATIONS 1

namespace rnnad::cpu::avx512 {

/// e^x: inputs clamped to [-104, 89] as in exp_f32; x = n ln2 + r, degree-7 Taylor for e^r.
inline __m512 exp_ps(__m512 x) {
  x = _mm512_min_ps(_mm512_set1_ps(89.0f), _mm512_max_ps(_mm512_set1_ps(-104.0f), x));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);  // n * ln2_hi is exact
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

/// 1 / d for finite d >= 1: vrcp14ps (relative error < 2^-14) and one Newton step; exact at 1.
inline __m512 reciprocal_ps(__m512 d) {
  const __m512 y = _mm512_rcp14_ps(d);
  return _mm512_mul_ps(y, _mm512_fnmadd_ps(d, y, _mm512_set1_ps(2.0f)));
}

/// 1 / (1 + e^-x); exactly 0 for x < -88 (where 1 + e^-x may overflow; sigmoid(-88) < 1e-38)
/// and exactly 1 from x > ~16.6.
inline __m512 sigmoid_ps(__m512 x) {
  const __m512 e = exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), x));
  const __m512 s = reciprocal_ps(_mm512_add_ps(e, _mm512_set1_ps(1.0f)));
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(-88.0f), _CMP_NLT_UQ), s);
}

/// tanh: |x| < 0.625 the odd polynomial of tanh_f32, else sign(x) (1 - 2 / (e^{2|x|} + 1)) with
/// |x| clamped to 10 (the float result is exactly 1 from |x| > ~9.01).
inline __m512 tanh_ps(__m512 x) {
  const __m512 sign = _mm512_set1_ps(-0.0f);
  const __m512 ax = _mm512_andnot_ps(sign, x);
  const __m512 z = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(-5.70498872745e-3f);
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(2.06390887954e-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-5.37397155531e-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.33314422036e-1f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.33332819422e-1f));
  const __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(x, z), p, x);
  const __m512 ax10 = _mm512_min_ps(_mm512_set1_ps(10.0f), ax);
  const __m512 e = exp_ps(_mm512_add_ps(ax10, ax10));
  const __m512 big = _mm512_fnmadd_ps(_mm512_set1_ps(2.0f), reciprocal_ps(_mm512_add_ps(e, _mm512_set1_ps(1.0f))),
                                      _mm512_set1_ps(1.0f));
  const __m512 signed_big = _mm512_or_ps(big, _mm512_and_ps(x, sign));
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_LT_OQ), signed_big, small);
}

}  // namespace rnnad::cpu::avx512

#endif
