// Prelude of every kernel body file (kernels/*.cuh; rules in docs/kernels.md). It is the only
// place that tells nvcc and the CPU harness apart:
//   - nvcc: CUDA's own headers; the shared-memory macros expand to __shared__ declarations.
//   - RNNAD_SIM (tests/harness, host C++): rnnad_sim/cuda_sim.h defines the CUDA names used by
//     kernels, and the macros give each block its own exact-size, bounds- and race-checked array.
// Kernel files include this first and nothing CUDA-specific besides it.
#pragma once

#if defined(RNNAD_SIM)
#include "rnnad_sim/cuda_sim.h"
/// Asks nvcc to unroll the loop that follows (registers indexed by its counter stay registers);
/// nothing in the harness.
#define RNNAD_UNROLL
#include "rnnad/half_bits.h"
#else
#include <cooperative_groups.h>
#include <cuda_fp16.h>

#include <cstddef>

/// Declares `name`, a per-block shared array of `count` elements of `type` (count: a constant
/// expression). The only way kernels declare static shared memory.
#define RNNAD_SHARED_ARRAY(type, name, count) __shared__ type name[count]

/// Declares `name`, the kernel's dynamic shared memory seen as `count` elements of `type`; the
/// launch must pass at least count * sizeof(type) bytes. At most one per kernel (on the GPU every
/// dynamic array starts at the same address). `count` is only checked by the harness.
#define RNNAD_DYNAMIC_SHARED_ARRAY(type, name, count)                    \
  extern __shared__ __align__(16) unsigned char rnnad_dynamic_shared_[]; \
  type* const name = reinterpret_cast<type*>(rnnad_dynamic_shared_);     \
  static_cast<void>(count)

/// The parameter type of a device function that receives a shared array (`float*` on the GPU).
#define RNNAD_SHARED_PTR(type) type*

#define RNNAD_UNROLL _Pragma("unroll")
#endif

namespace rnnad::cuda {

/// Full-warp mask for the *_sync intrinsics.
inline constexpr unsigned kFullWarpMask = 0xffffffffu;

/// IEEE binary16 bits (the low 16 bits of `bits`) -> float, exact; and float -> the nearest
/// binary16's bits, ties to even. nvcc: the cvt instructions (cuda_fp16.h); harness: the exact
/// software conversions of rnnad/half_bits.h.
#if defined(RNNAD_SIM)
inline float half_bits_to_float(unsigned bits) { return f16_bits_to_float(static_cast<std::uint16_t>(bits)); }
inline unsigned float_to_half_bits(float v) { return float_to_f16_bits(v); }
#else
__device__ __forceinline__ float half_bits_to_float(unsigned bits) {
  return __half2float(__ushort_as_half(static_cast<unsigned short>(bits)));
}
__device__ __forceinline__ unsigned float_to_half_bits(float v) { return __half_as_ushort(__float2half_rn(v)); }
#endif

}  // namespace rnnad::cuda
