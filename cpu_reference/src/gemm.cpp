// GemmPlan: Eigen's general_matrix_matrix_product driven with a blocking space whose packing
// buffers are allocated once. This mirrors what Eigen's own dense product does per call
// (Eigen/src/Core/products/GeneralMatrixMatrix.h, generic_product_impl::scaleAndAddTo), minus
// the per-call allocation. Written against Eigen 3.4 (Debian's libeigen3-dev).
#include "rnnad/cpu/gemm.h"

#include <Eigen/Core>

namespace rnnad::cpu {

namespace {
using Index = Eigen::Index;
// Result row-major: Eigen transposes internally, hence the RowMajor blocking space.
using BlockingSpace =
    Eigen::internal::gemm_blocking_space<Eigen::RowMajor, float, float, Eigen::Dynamic, Eigen::Dynamic, Eigen::Dynamic>;
using Product = Eigen::internal::general_matrix_matrix_product<Index, float, Eigen::RowMajor, false, float,
                                                              Eigen::RowMajor, false, Eigen::RowMajor, 1>;
}  // namespace

struct GemmPlan::Blocking {
  BlockingSpace space;
  Blocking(int64_t m, int64_t n, int64_t k) : space(m, n, k, 1, true) { space.allocateAll(); }
};

GemmPlan::GemmPlan(int64_t max_m, int64_t n, int64_t k)
    : m_n(n), m_k(k), m_blocking(std::make_unique<Blocking>(max_m, n, k)) {}
GemmPlan::~GemmPlan() = default;
GemmPlan::GemmPlan(GemmPlan&&) noexcept = default;
GemmPlan& GemmPlan::operator=(GemmPlan&&) noexcept = default;

void GemmPlan::run(int64_t m, const float* a, int64_t lda, const float* bt, int64_t ldbt, float* c,
                   int64_t ldc) const {
  if (m == 1) {
    // y[n] += Bt^T x: Bt (k x n, row-major) is the column-major n x k matrix W.
    using ColMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
    Eigen::Map<const ColMat, 0, Eigen::OuterStride<>> w(bt, m_n, m_k, Eigen::OuterStride<>(ldbt));
    Eigen::Map<const Eigen::VectorXf> x(a, m_k);
    Eigen::Map<Eigen::VectorXf> y(c, m_n);
    y.noalias() += w * x;
    return;
  }
  Product::run(m, m_n, m_k, a, lda, bt, ldbt, c, 1, ldc, 1.0f, m_blocking->space, nullptr);
}

}  // namespace rnnad::cpu
