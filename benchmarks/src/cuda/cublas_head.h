// A PyTorch nn.Linear on the GPU through cuBLAS (fp32, no TF32): the heads the cuDNN backend runs
// after cudnnRNNForward so that it does the same work as rnnad's models (CUDA builds only).
#pragma once

#include <cublas_v2.h>

#include <cstdint>

#include "gpu_runtime.h"
#include "rnnad/model.h"

namespace rnnad::bench {

/// out = in · Wᵀ + b for `rows` rows; W [n_out, n_in] and b [n_out] copied from a model.
class LinearHead {
 public:
  /// Copies `<name>.weight` and `<name>.bias` of `model` to the device. Throws rnnad::Error when
  /// they are absent, BenchError on a CUDA failure.
  LinearHead(cublasHandle_t cublas, const Model& model, const std::string& name);
  /// out[r, :] = b for r < rows (out [rows, n_out] on the device); queued on the default stream.
  void fill_bias(float* out, int64_t rows) const;
  /// out[r, :] += in[r, :] · Wᵀ for r < rows (in [rows, n_in], out [rows, n_out]); queued.
  void accumulate(const float* in, float* out, int64_t rows) const;
  int64_t n_in() const { return m_in; }
  int64_t n_out() const { return m_out; }

 private:
  cublasHandle_t m_cublas;
  int64_t m_in = 0, m_out = 0;
  DeviceBuffer<float> m_weight, m_bias;
};

/// Throws BenchError "<call>: cuBLAS status <n>" unless `status` is CUBLAS_STATUS_SUCCESS.
void cublas_check(cublasStatus_t status, const char* call);

}  // namespace rnnad::bench
