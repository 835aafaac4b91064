// The one tolerance table (design.md §7), used by every test, `rnnad validate` and the
// benchmarks' pre-timing check.
#pragma once

#include <algorithm>
#include <cmath>

namespace rnnad::tolerance {

/// fp32 outputs and states (engine vs float64 PyTorch reference, GPU vs CPU):
/// |a - b| <= kFp32 * max(1, |b|).
inline constexpr double kFp32 = 1e-5;
/// fp16/bf16 weights against the dequantised reference: per element
/// |a - b| <= kHalfElement * max(1, |b|), and relative L2 over the tensor <= kHalfRelL2.
inline constexpr double kHalfElement = 3e-3;
inline constexpr double kHalfRelL2 = 2e-3;
/// Anomaly scores: |a - b| <= kScore * max(|b|, median |reference scores|).
inline constexpr double kScore = 1e-4;

/// Allowed |a - b| for an fp32 value whose reference is `ref`.
inline double fp32_bound(double ref) { return kFp32 * std::max(1.0, std::abs(ref)); }

}  // namespace rnnad::tolerance
