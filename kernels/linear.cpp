// cuda::Linear (rnnad/cuda/linear.h).
#include "rnnad/cuda/linear.h"

#include <climits>

#include "rnnad/cuda/ops.h"
#include "rnnad/cuda/row_kernels.h"

namespace rnnad::cuda {

Linear::Linear(const Context& ctx, const float* weight, const float* bias, int64_t out_features, int64_t in_features)
    : m_ctx(ctx), m_out(out_features), m_in(in_features) {
  ctx.activate();
  m_weight = upload(weight, static_cast<std::size_t>(out_features * in_features));
  if (bias) m_bias = upload(bias, static_cast<std::size_t>(out_features));
}

void Linear::apply(int64_t rows, const float* x, int64_t ldx, float* y, int64_t ldy) const {
  if (rows < 1) return;
  float beta = 0.0f;
  if (m_bias.data()) {
    BiasRowsArgs a;
    a.y = y;
    a.bias = m_bias.data();
    a.rows = rows;
    a.cols = static_cast<int>(m_out);
    a.ld_y = static_cast<int>(ldy);
    bias_rows(a, m_ctx.stream());
    beta = 1.0f;
  }
  gemm_xwt(m_ctx, rows, m_out, m_in, x, ldx, m_weight.data(), y, ldy, beta);
}

}  // namespace rnnad::cuda
