#include "cublas_head.h"

#include <string>

#include "../bench_error.h"
#include "gpu_kernels.h"

namespace rnnad::bench {

void cublas_check(cublasStatus_t status, const char* call) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw BenchError(std::string(call) + ": cuBLAS status " + std::to_string(static_cast<int>(status)));
}

LinearHead::LinearHead(cublasHandle_t cublas, const Model& model, const std::string& name) : m_cublas(cublas) {
  const Weight& w = model.weight(name + ".weight");
  const Weight& b = model.weight(name + ".bias");
  m_out = w.shape.at(0);
  m_in = w.shape.at(1);
  m_weight = DeviceBuffer<float>(w.values.size());
  m_bias = DeviceBuffer<float>(b.values.size());
  copy_to_device(m_weight.get(), w.values.data(), w.values.size());
  copy_to_device(m_bias.get(), b.values.data(), b.values.size());
}

void LinearHead::fill_bias(float* out, int64_t rows) const { broadcast_rows(m_bias.get(), rows, m_out, out); }

void LinearHead::accumulate(const float* in, float* out, int64_t rows) const {
  // Column-major view: out (n_out x rows) += Wᵀ-as-stored (W row-major [n_out, n_in] is
  // column-major n_in x n_out, transposed) · in (n_in x rows).
  const float one = 1.0f;
  const int m = static_cast<int>(m_out), n = static_cast<int>(rows), k = static_cast<int>(m_in);
  cublas_check(cublasSgemm(m_cublas, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &one, m_weight.get(), k, in, k, &one, out, m),
               "cublasSgemm (linear head)");
}

}  // namespace rnnad::bench
