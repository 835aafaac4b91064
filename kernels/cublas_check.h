// Checking of cuBLAS calls: a failure becomes an rnnad::CudaError naming the call, file, line and
// cuBLAS's status name (style.md §2.5-2.6).
#pragma once

#include <cublas_v2.h>

#include <string>

#include "rnnad/error.h"

namespace rnnad::cuda {

[[noreturn]] inline void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
  throw CudaError(std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " +
                  cublasGetStatusName(status) + ": " + cublasGetStatusString(status));
}

}  // namespace rnnad::cuda

/// Evaluates a cuBLAS call and throws rnnad::CudaError unless it returns CUBLAS_STATUS_SUCCESS.
#define RNNAD_CUBLAS_CHECK(call)                                                   \
  do {                                                                             \
    const cublasStatus_t rnnad_cublas_status_ = (call);                            \
    if (rnnad_cublas_status_ != CUBLAS_STATUS_SUCCESS)                             \
      ::rnnad::cuda::throw_cublas_error(rnnad_cublas_status_, #call, __FILE__, __LINE__); \
  } while (0)
