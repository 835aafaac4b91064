#include "rnnad/cpu/linear.h"

#include <algorithm>
#include <cstring>

#include "layout.h"

namespace rnnad::cpu {

Linear::Linear(const float* weight, const float* bias, int64_t out_features, int64_t in_features, int64_t max_rows)
    : m_out(out_features),
      m_in(in_features),
      m_weight_t(detail::transposed(weight, out_features, in_features)),
      m_bias(bias ? std::vector<float>(bias, bias + out_features) : std::vector<float>(static_cast<std::size_t>(out_features), 0.0f)),
      m_gemm(max_rows, out_features, in_features) {}

void Linear::apply(int64_t rows, const float* x, int64_t ldx, float* y, int64_t ldy) const {
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(y + r * ldy, m_bias.data(), static_cast<std::size_t>(m_out) * sizeof(float));
  m_gemm.run(rows, x, ldx, m_weight_t.data(), m_out, y, ldy);
}

}  // namespace rnnad::cpu
