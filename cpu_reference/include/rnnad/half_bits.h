// The 16-bit float formats of model weights (safetensors F16 and BF16) as bit patterns, converted
// to and from float exactly as IEEE 754 and PyTorch's `Tensor.to(torch.float16 / bfloat16)` do:
// widening is exact, narrowing rounds to nearest, ties to even. Host code, C++17 (also included
// by nvcc-compiled translation units), shared by the model loader, the CUDA backend's choice of
// 16-bit on-chip weights, and the CPU harness's stand-ins for the CUDA conversion intrinsics.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace rnnad {

namespace detail {
inline std::uint32_t float_bits(float v) {
  std::uint32_t u = 0;
  std::memcpy(&u, &v, sizeof u);
  return u;
}
inline float bits_float(std::uint32_t u) {
  float v = 0.0f;
  std::memcpy(&v, &u, sizeof v);
  return v;
}
}  // namespace detail

/// IEEE binary16 bits -> float; exact for every input (subnormals, infinities, NaN).
inline float f16_bits_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal half: normalise
    exp = 113;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --exp;
    }
    bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
  }
  return detail::bits_float(bits);
}

/// bfloat16 bits (the upper half of a binary32) -> float; exact.
inline float bf16_bits_to_float(std::uint16_t h) { return detail::bits_float(static_cast<std::uint32_t>(h) << 16); }

/// The binary16 nearest to v, ties to even, as bits: |v| >= 65520 gives infinity, NaN a quiet NaN,
/// values below 2^-14 the subnormal multiple of 2^-24 nearest to them.
inline std::uint16_t float_to_f16_bits(float v) {
  const std::uint32_t x = detail::float_bits(v);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  std::uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u);   // NaN
  if (ax >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // 65520 and above: inf
  if (ax >= 0x38800000u) {  // a normal binary16 (2^-14 and above): drop 13 bits, ties to even
    ax += 0xfffu + ((ax >> 13) & 1u);
    return static_cast<std::uint16_t>(sign | ((ax - 0x38000000u) >> 13));
  }
  // Subnormal or zero: the nearest multiple of 2^-24 (scaling by 2^24 is exact; 1024 is 2^-14,
  // the smallest normal, whose bits 0x400 are the count itself).
  const float units = std::nearbyint(detail::bits_float(ax) * 16777216.0f);
  return static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(units));
}

/// The bfloat16 nearest to v, ties to even, as bits (NaN stays a quiet NaN).
inline std::uint16_t float_to_bf16_bits(float v) {
  std::uint32_t x = detail::float_bits(v);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<std::uint16_t>(x >> 16);
}

/// Whether v survives a round trip through binary16 / bfloat16 unchanged (sign of zero included).
inline bool exact_in_f16(float v) {
  return detail::float_bits(f16_bits_to_float(float_to_f16_bits(v))) == detail::float_bits(v);
}
inline bool exact_in_bf16(float v) { return (detail::float_bits(v) & 0xffffu) == 0; }

}  // namespace rnnad
