// Weight re-layout helpers shared by the CPU ops (internal).
#pragma once

#include <cstdint>
#include <vector>

namespace rnnad::cpu::detail {

/// PyTorch weight [rows, cols] (row-major) -> its transpose [cols, rows], row-major.
inline std::vector<float> transposed(const float* w, int64_t rows, int64_t cols) {
  std::vector<float> t(static_cast<std::size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) t[static_cast<std::size_t>(c * rows + r)] = w[r * cols + c];
  return t;
}

}  // namespace rnnad::cpu::detail
